"""``backup`` and ``restore`` carry the uploaded files: a restore elsewhere verifies, files
included, and serves them byte for byte."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from teleconsult.clock import FakeClock
from teleconsult.config import Settings
from teleconsult.db.backup import backup, restore
from teleconsult.db.engine import make_engine, make_sessionmaker
from teleconsult.files.store import get, store_for
from teleconsult.ledger.verify import check_restored, run_verify

from .. import filekit
from ..conftest import Database
from .passport_support import clinic, grant
from .test_backup import target

__all__ = ["target"]


async def test_backup_and_restore_carry_the_files(
    client: Any,
    database: Database,
    clock: FakeClock,
    settings: Settings,
    target: Settings,
    tmp_path: Path,
) -> None:
    c = await clinic(client, database.engine)
    await grant(c, clock, user_id=c.w.specialist.id)
    data = filekit.jpeg(exif=False, size=(120, 80))
    status, uploaded = await filekit.upload(c.w.specialist, data, "ecg.jpg")
    assert status == 200, uploaded
    status, entry = await c.w.specialist.post(
        f"/consultations/{c.consultation_id}/entries",
        {"kind": "attachment", "body": {"title": "ECG", "file_id": uploaded["file"]["id"]}},
    )
    assert status == 201, entry
    made = await backup(settings)
    await restore(target, made.path, check=check_restored)
    assert target.data_dir != settings.data_dir
    engine = make_engine(target.effective_database_url)
    try:
        sessions = make_sessionmaker(engine)
        ok, reports = await run_verify(sessions, target)
        assert ok, [r.first_bad for r in reports if r.first_bad]
        async with sessions() as session:
            back = await get(store_for(target, session), session, entry["body"]["sha256"])
        assert back == data
    finally:
        await engine.dispose()
