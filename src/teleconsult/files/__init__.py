"""Uploaded files: a blob store by SHA-256, resumable uploads, and who may read what."""
