from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class FileOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    content_type: str
    size: int
    sha256: str
    created_at: datetime
    uploader_id: uuid.UUID
    thumbnail: bool
    meta: dict[str, Any]
    consultation_id: uuid.UUID | None = None
    entry_id: uuid.UUID | None = None


class AttachIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    file_id: uuid.UUID


class UploadOut(BaseModel):
    id: uuid.UUID
    length: int
    offset: int
    file: FileOut | None = None
