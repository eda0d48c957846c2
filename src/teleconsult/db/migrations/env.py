"""Alembic environment: runs on the connection handed over by :mod:`teleconsult.db.migrate`."""

from __future__ import annotations

from alembic import context

from teleconsult.db.models import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - only reached when alembic is run by hand
    raise RuntimeError("run migrations with `teleconsult migrate`")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
