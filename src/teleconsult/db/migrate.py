"""Schema migrations with alembic, driven from Python (no alembic.ini needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


async def upgrade(engine: AsyncEngine, revision: str = "heads") -> None:
    """Bring the database to the newest schema (every head, so parallel branches apply)."""

    def run(connection: Any) -> None:
        cfg = alembic_config()
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)

    async with engine.begin() as conn:
        await conn.run_sync(run)


async def autogenerate(engine: AsyncEngine, message: str, rev_id: str) -> None:
    """Developer helper: write a new revision from the difference to the models."""

    def run(connection: Any) -> None:
        cfg = alembic_config()
        cfg.attributes["connection"] = connection
        command.revision(cfg, message=message, autogenerate=True, rev_id=rev_id)

    async with engine.begin() as conn:
        await conn.run_sync(run)
