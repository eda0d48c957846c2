"""The blob store port: content kept by its SHA-256 and checked against it on every read.

- :class:`DirectoryStore`: files under ``DATA_DIR/files`` (the embedded SQLite default);
- :class:`DatabaseStore`: the ``file_blobs`` table, so that on PostgreSQL every process of a
  multi-process deployment reads the same files.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from pathlib import Path
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..config import Settings
from .models import FileBlob

FOLDER = "files"


class BlobProblem(Exception):
    """A blob that is missing, or whose content no longer has its hash."""


class BlobMissing(BlobProblem):
    pass


class BlobChanged(BlobProblem):
    pass


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _checked(sha256: str, data: bytes | None) -> bytes:
    if data is None:
        raise BlobMissing(f"file {sha256[:12]} is missing")
    if digest(data) != sha256:
        raise BlobChanged(f"file {sha256[:12]} has changed")
    return data


class BlobStore(Protocol):
    async def put(self, session: AsyncSession, sha256: str, data: bytes) -> None: ...

    async def read(self, session: AsyncSession, sha256: str) -> bytes | None:
        """The stored bytes as they are (unchecked), or None."""
        ...


async def get(store: BlobStore, session: AsyncSession, sha256: str) -> bytes:
    """The blob, checked against its hash (:class:`BlobMissing`, :class:`BlobChanged`)."""
    data = await store.read(session, sha256)
    if data is not None and len(data) > 1 << 20:
        # Hashing megabytes is CPU work: off the event loop.
        return await asyncio.to_thread(_checked, sha256, data)
    return _checked(sha256, data)


async def problem(store: BlobStore, session: AsyncSession, sha256: str) -> str | None:
    """What is wrong with a blob ("missing", "changed"), or None."""
    try:
        await get(store, session, sha256)
    except BlobMissing:
        return "missing"
    except BlobChanged:
        return "changed"
    return None


class DirectoryStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def _write(self, sha256: str, data: bytes) -> None:
        target = self.path(sha256)
        if target.is_file() and target.stat().st_size == len(data):
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        part = target.with_name(f".{sha256}.{os.getpid()}.part")
        with part.open("wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(part, target)

    def _read(self, sha256: str) -> bytes | None:
        try:
            return self.path(sha256).read_bytes()
        except FileNotFoundError:
            return None

    async def put(self, session: AsyncSession, sha256: str, data: bytes) -> None:
        await asyncio.to_thread(self._write, sha256, data)

    async def read(self, session: AsyncSession, sha256: str) -> bytes | None:
        return await asyncio.to_thread(self._read, sha256)

    def all(self) -> list[str]:
        """Every blob's hash (blocking)."""
        if not self.root.is_dir():
            return []
        return sorted(
            p.name for p in self.root.glob("??/*") if p.is_file() and not p.name.startswith(".")
        )


class DatabaseStore:
    async def put(self, session: AsyncSession, sha256: str, data: bytes) -> None:
        if await session.scalar(select(FileBlob.sha256).where(FileBlob.sha256 == sha256)):
            return
        session.add(FileBlob(sha256=sha256, data=data))
        await session.flush()

    async def read(self, session: AsyncSession, sha256: str) -> bytes | None:
        data = await session.scalar(select(FileBlob.data).where(FileBlob.sha256 == sha256))
        return bytes(data) if data is not None else None


def store_for(settings: Settings, session: AsyncSession) -> BlobStore:
    """The database on PostgreSQL, the data directory otherwise."""
    if session.get_bind().dialect.name == "postgresql":
        return DatabaseStore()
    return DirectoryStore(settings.data_dir / FOLDER)
