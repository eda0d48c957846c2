"""Hash chains: canonical documents linked by SHA-256, appended one writer at a time per
chain, walked again to verify them (long chains in pieces over worker processes) and
compared with signed checkpoints. The passport and the audit log keep their entries in
such chains; this package knows their tables by name, never their services."""
