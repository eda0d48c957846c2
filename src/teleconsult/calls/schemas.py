from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict


class CallTicketOut(BaseModel):
    ice_servers: list[dict[str, Any]]
    ws_url: str
    mode: Literal["p2p", "relay"]
    expires_in: int


class CallOptionsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mode: Literal["p2p", "relay"] | None = None
    invite_patient: bool | None = None


class CallOptionsOut(BaseModel):
    mode: Literal["p2p", "relay"]
    patient_invited: bool
    record: bool = False


class RecordingConsentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    granted: bool
