"""The audit log: who did what to which patient, append-only and hash-chained."""
