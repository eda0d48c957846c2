"""What a call-only session (a patient who followed a call link) may reach: its one
consultation's call page, its own name, signing out; nothing else."""

from __future__ import annotations

import uuid

import pytest

from teleconsult.accounts.auth import call_only_allows

CID = uuid.UUID("11111111-2222-3333-4444-555555555555")
OTHER = uuid.UUID("66666666-7777-8888-9999-000000000000")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/me"),
        ("POST", "/api/v1/auth/logout"),
        ("GET", f"/api/v1/consultations/{CID}"),
        ("GET", f"/api/v1/consultations/{CID}/call"),
        ("GET", f"/api/v1/consultations/{CID}/chat"),
        ("POST", f"/api/v1/consultations/{CID}/chat"),
        # Files: only those of its consultation's chat (files/service.py: may_read).
        ("GET", f"/api/v1/files/{OTHER}"),
        ("GET", f"/api/v1/files/{OTHER}/thumbnail"),
    ],
)
def test_the_call_page_is_allowed(method: str, path: str) -> None:
    assert call_only_allows(method, path, CID)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PATCH", "/api/v1/me"),
        ("GET", "/api/v1/me/messages"),
        ("GET", "/api/v1/consultations"),
        ("GET", f"/api/v1/consultations/{OTHER}/call"),
        ("GET", f"/api/v1/consultations/{CID}/call/x"),
        ("POST", f"/api/v1/consultations/{CID}/call/options"),
        ("POST", f"/api/v1/consultations/{CID}/complete"),
        ("GET", "/api/v1/patients/x/passport"),
        ("GET", "/api/v1/events"),
        ("GET", "/api/v1/auth/logout"),
        ("POST", f"/api/v1/files/{OTHER}"),
        ("GET", f"/api/v1/files/{OTHER}/thumbnail/x"),
        ("GET", "/api/v1/files/x"),
        ("POST", "/api/v1/uploads"),
    ],
)
def test_everything_else_is_refused(method: str, path: str) -> None:
    assert not call_only_allows(method, path, CID)
