"""Delivering one-time consent codes to patients: a small port with a development notifier.

An SMS gateway plugs in by implementing :class:`Notifier` and being put on the app under
``appkeys.NOTIFIER``. The development notifier writes the code to the log (the console of
``teleconsult serve``) and keeps the last few in memory, where tests read them.
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
    async def send_consent_code(
        self, *, request_id: uuid.UUID, patient_id: uuid.UUID, phone: str | None, code: str
    ) -> None: ...


class LoggingNotifier:
    """Development notifier: logs the code and remembers the most recent ones."""

    def __init__(self, keep: int = 100) -> None:
        self.sent: deque[SentCode] = deque(maxlen=keep)

    async def send_consent_code(
        self, *, request_id: uuid.UUID, patient_id: uuid.UUID, phone: str | None, code: str
    ) -> None:
        self.sent.append(SentCode(request_id, patient_id, code))
        # The phone number is patient data and stays out of the log.
        log.warning("consent code for request %s: %s (development notifier)", request_id, code)

    def code_for(self, request_id: uuid.UUID | str) -> str | None:
        """The newest code sent for a request."""
        for sent in reversed(self.sent):
            if str(sent.request_id) == str(request_id):
                return sent.code
        return None
