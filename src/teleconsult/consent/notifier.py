"""Delivering one-time consent codes to patients: a small port and its development stand-in.

A real channel (SMS, e-mail) plugs in by implementing :class:`Notifier` and being put on the
app under ``appkeys.NOTIFIER``. Until one is configured, the development notifier keeps the
last few codes in memory (where tests read them) and, only when ``TELECONSULT_ENV=development``,
shows them in the console of ``teleconsult serve``: a code in a log lets anyone who reads the
log grant themselves access to a passport. Production refuses to start with it
(``config.Settings``); with ``TELECONSULT_CONSENT_CODES=off`` no code is sent at all and
patients confirm requests from their own account.
"""

from __future__ import annotations

import logging
import uuid
from collections import deque
from dataclasses import dataclass
from typing import Protocol

log = logging.getLogger("teleconsult.consent")


@dataclass(frozen=True)
class SentCode:
    request_id: uuid.UUID
    patient_id: uuid.UUID
    code: str


class Notifier(Protocol):
    # False when nothing can deliver a code: a code is then never made.
    delivers: bool

    async def send_consent_code(
        self, *, request_id: uuid.UUID, patient_id: uuid.UUID, phone: str | None, code: str
    ) -> None: ...


class DevelopmentNotifier:
    """Remembers the most recent codes; shows them on the console in development only."""

    delivers = True

    def __init__(self, *, show_codes: bool, keep: int = 100) -> None:
        self.show_codes = show_codes
        self.sent: deque[SentCode] = deque(maxlen=keep)

    async def send_consent_code(
        self, *, request_id: uuid.UUID, patient_id: uuid.UUID, phone: str | None, code: str
    ) -> None:
        self.sent.append(SentCode(request_id, patient_id, code))
        if self.show_codes:
            # The phone number is patient data and stays out of the log.
            log.warning("consent code for request %s: %s (development only)", request_id, code)

    def code_for(self, request_id: uuid.UUID | str) -> str | None:
        """The newest code sent for a request."""
        for sent in reversed(self.sent):
            if str(sent.request_id) == str(request_id):
                return sent.code
        return None


class NoDelivery:
    """No channel delivers codes: patients confirm consent requests from their account."""

    delivers = False

    async def send_consent_code(
        self, *, request_id: uuid.UUID, patient_id: uuid.UUID, phone: str | None, code: str
    ) -> None:
        raise RuntimeError("no channel delivers one-time consent codes")


def notifier_for(consent_codes: str, env: str) -> Notifier:
    """The notifier the settings ask for (``TELECONSULT_CONSENT_CODES``)."""
    if consent_codes == "off":
        return NoDelivery()
    return DevelopmentNotifier(show_codes=env == "development")
