"""Work left to the end of a transaction (``db.uow.before_commit``): run once, as the last
work before the commit, and only if the transaction commits."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from teleconsult.db.engine import make_sessionmaker
from teleconsult.db.uow import before_commit, unit_of_work
from teleconsult.facilities.models import Facility

from ..conftest import Database


async def facilities(database: Database) -> int:
    async with make_sessionmaker(database.engine)() as session:
        return int(await session.scalar(select(func.count()).select_from(Facility)) or 0)


async def test_work_before_the_commit_runs_once_last_and_only_when_committing(
    database: Database,
) -> None:
    sessionmaker = make_sessionmaker(database.engine)
    order: list[str] = []

    async def last(session: AsyncSession) -> None:
        order.append("last")
        session.add(Facility(name="Written last", region="pavlodar", level="primary"))
        await session.flush()

    async with unit_of_work(sessionmaker) as session:
        before_commit(session, last)
        order.append("work")
        before_commit(session, last)
        order.append("more work")
    assert order == ["work", "more work", "last"]
    assert await facilities(database) == 1

    with pytest.raises(RuntimeError):
        async with unit_of_work(sessionmaker) as session:
            before_commit(session, last)
            raise RuntimeError("the request failed")
    assert order == ["work", "more work", "last"]
    assert await facilities(database) == 1
