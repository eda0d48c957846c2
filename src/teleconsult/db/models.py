"""Import every table so that metadata (alembic, tests) sees them all."""

from ..accounts.models import (
    AuthToken,
    LoginFailure,
    PasswordReset,
    SpecialistSpecialty,
    User,
)
from ..audit.models import AuditEntry
from ..bus.outbox import OutboxEvent
from ..calls.models import CallOptions, CallParticipation, CallTicket, ChatMessage
from ..consent.models import BreakGlassSession, ConsentGrant, ConsentRequest
from ..consultations.models import Consultation, IdempotencyRecord
from ..facilities.models import Facility
from ..ledger.models import ChainHead
from ..notify.models import Message, MessagePreference
from ..passport.models import PassportEntry
from ..patients.models import Patient
from ..scheduling.models import AvailabilityWindow, Slot
from ..stats.models import StatsRollup
from .base import Base

__all__ = [
    "AuditEntry",
    "AuthToken",
    "AvailabilityWindow",
    "Base",
    "BreakGlassSession",
    "CallOptions",
    "CallParticipation",
    "CallTicket",
    "ChainHead",
    "ChatMessage",
    "ConsentGrant",
    "ConsentRequest",
    "Consultation",
    "Facility",
    "IdempotencyRecord",
    "LoginFailure",
    "Message",
    "MessagePreference",
    "OutboxEvent",
    "PassportEntry",
    "PasswordReset",
    "Patient",
    "Slot",
    "SpecialistSpecialty",
    "StatsRollup",
    "User",
]
