"""The lifelong health passport: append-only, hash-chained entries per patient."""
