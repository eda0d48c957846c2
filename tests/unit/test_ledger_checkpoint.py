from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from teleconsult.ledger.chain import Head
from teleconsult.ledger.checkpoint import CheckpointInvalid, load_latest, write_checkpoint

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def test_newest_signed_checkpoint_is_loaded(tmp_path: Path) -> None:
    assert load_latest(tmp_path, "k") is None
    write_checkpoint(tmp_path, "k", {"passport": {"p": Head(1, "a" * 64)}}, T0)
    write_checkpoint(tmp_path, "k", {"passport": {"p": Head(2, "b" * 64)}}, T0 + timedelta(1))
    checkpoint = load_latest(tmp_path, "k")
    assert checkpoint is not None
    assert checkpoint.head("passport", "p") == Head(2, "b" * 64)
    assert checkpoint.head("audit", "p") is None


def test_edited_or_wrongly_keyed_checkpoints_are_refused(tmp_path: Path) -> None:
    path = write_checkpoint(tmp_path, "k", {"passport": {"p": Head(3, "c" * 64)}}, T0)
    with pytest.raises(CheckpointInvalid):
        load_latest(tmp_path, "another key")
    payload = json.loads(path.read_text())
    payload["heads"]["passport"]["p"][0] = 2
    path.write_text(json.dumps(payload))
    with pytest.raises(CheckpointInvalid):
        load_latest(tmp_path, "k")
    path.write_text("not json")
    with pytest.raises(CheckpointInvalid):
        load_latest(tmp_path, "k")
