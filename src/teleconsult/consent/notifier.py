"""Delivering one-time consent codes to patients: a small port and its development stand-in.

With ``TELECONSULT_CONSENT_CODES=sms`` a code is a message to the patient's phone, queued in
the request's own transaction and delivered by the notifications relay (notify/). The
development notifier keeps the last few codes in memory (where tests read them) and, only
when ``TELECONSULT_ENV=development``, shows them in the console of ``teleconsult serve``: a
code in a log lets anyone who reads the log grant themselves access to a passport.
Production refuses to start with it (``config.Settings``); with
``TELECONSULT_CONSENT_CODES=off`` no code is sent at all and patients confirm requests from
their own account.
"""

from __future__ import annotations

import logging
import uuid
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from ..db.uow import after_commit
from ..errors import Conflict
from ..notify.outbox import queue

log = logging.getLogger("teleconsult.consent")


@dataclass(frozen=True)
class SentCode:
    request_id: uuid.UUID
    patient_id: uuid.UUID
    code: str


@dataclass(frozen=True)
class CodeToSend:
    """A one-time code for a consent request, to the patient's phone, in their language."""

    request_id: uuid.UUID
    patient_id: uuid.UUID
    phone: str | None
    code: str
    language: str
    now: datetime


class Notifier(Protocol):
    # False when nothing can deliver a code: a code is then never made.
    delivers: bool

    async def send_consent_code(self, session: AsyncSession, sent: CodeToSend) -> None:
        """Send ``code`` once, and only if, the session's transaction commits."""
        ...


class DevelopmentNotifier:
    """Remembers the most recent codes; shows them on the console in development only."""

    delivers = True

    def __init__(self, *, show_codes: bool, keep: int = 100) -> None:
        self.show_codes = show_codes
        self.sent: deque[SentCode] = deque(maxlen=keep)

    async def send_consent_code(self, session: AsyncSession, sent: CodeToSend) -> None:
        async def show() -> None:
            self.sent.append(SentCode(sent.request_id, sent.patient_id, sent.code))
            if self.show_codes:
                # The phone number is patient data and stays out of the log.
                log.warning(
                    "consent code for request %s: %s (development only)",
                    sent.request_id,
                    sent.code,
                )

        after_commit(session, show)

    def code_for(self, request_id: uuid.UUID | str) -> str | None:
        """The newest code sent for a request."""
        for sent in reversed(self.sent):
            if str(sent.request_id) == str(request_id):
                return sent.code
        return None


class NoDelivery:
    """No channel delivers codes: patients confirm consent requests from their account."""

    delivers = False

    async def send_consent_code(self, session: AsyncSession, sent: CodeToSend) -> None:
        raise RuntimeError("no channel delivers one-time consent codes")


class SmsNotifier:
    """The code as an SMS to the patient's phone, through the messages outbox."""

    delivers = True

    async def send_consent_code(self, session: AsyncSession, sent: CodeToSend) -> None:
        if not sent.phone:
            raise Conflict(
                "The patient has no phone number to receive a code; they can confirm from "
                "their account.",
                code="patient_has_no_phone",
            )
        queue(
            session,
            kind="consent_code",
            channel="sms",
            address=sent.phone,
            language=sent.language,
            params={"code": sent.code},
            secret=("code",),
            patient_id=sent.patient_id,
            now=sent.now,
        )


def notifier_for(consent_codes: str, env: str) -> Notifier:
    """The notifier the settings ask for (``TELECONSULT_CONSENT_CODES``)."""
    if consent_codes == "off":
        return NoDelivery()
    if consent_codes == "sms":
        return SmsNotifier()
    return DevelopmentNotifier(show_codes=env == "development")
