"""Database: engine, declarative base, the request-scoped unit of work and migrations."""
