"""Checkpoints: every chain head, signed with an HMAC of the secret key, kept on disk.

The database alone cannot prove that its newest entries are still there: someone able to
rewrite the tables could cut or recompute the end of a chain. A checkpoint lives outside
the database (under the data folder) and is signed, so such a rewrite shows up as a
difference from the last checkpoint.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from .chain import Head, canonical

FOLDER = "checkpoints"
PREFIX = "checkpoint-"


class CheckpointInvalid(Exception):
    """The newest checkpoint file is unreadable or its signature does not match."""


@dataclass(frozen=True)
class Checkpoint:
    created_at: str
    # ledger → chain key → head
    heads: dict[str, dict[str, Head]]
    path: Path | None = None

    def head(self, ledger: str, key: str) -> Head | None:
        return self.heads.get(ledger, {}).get(key)


def _signature(payload: dict[str, Any], secret_key: str) -> str:
    return hmac.new(
        secret_key.encode(), canonical(payload).encode("utf-8"), hashlib.sha256
    ).hexdigest()


def write_checkpoint(
    data_dir: Path, secret_key: str, heads: dict[str, dict[str, Head]], now: datetime
) -> Path:
    """Write a new signed checkpoint file (atomically) and return its path."""
    folder = data_dir / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    payload: dict[str, Any] = {
        "version": 1,
        "created_at": now.isoformat(),
        "heads": {
            ledger: {key: [head.seq, head.hash] for key, head in sorted(chains.items())}
            for ledger, chains in sorted(heads.items())
        },
    }
    payload["signature"] = _signature(payload, secret_key)
    path = folder / f"{PREFIX}{now:%Y%m%dT%H%M%S%fZ}.json"
    partial = path.with_suffix(".part")
    partial.write_text(json.dumps(payload, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(partial, path)
    return path


def load_latest(data_dir: Path, secret_key: str) -> Checkpoint | None:
    """The newest checkpoint, None if there is none; CheckpointInvalid if it was altered."""
    folder = data_dir / FOLDER
    if not folder.is_dir():
        return None
    files = sorted(folder.glob(f"{PREFIX}*.json"))
    if not files:
        return None
    path = files[-1]
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
        signature = payload.pop("signature")
        heads = {
            ledger: {key: Head(int(v[0]), str(v[1])) for key, v in chains.items()}
            for ledger, chains in payload["heads"].items()
        }
        created_at = str(payload["created_at"])
    except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError):
        raise CheckpointInvalid(f"{path.name} is not a readable checkpoint") from None
    if not hmac.compare_digest(str(signature), _signature(payload, secret_key)):
        raise CheckpointInvalid(f"{path.name} has an invalid signature")
    return Checkpoint(created_at, heads, path)
