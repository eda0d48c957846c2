"""Import every table so that metadata (alembic, tests) sees them all."""

from ..accounts.models import (
    AuthToken,
    LoginFailure,
    PasswordReset,
    SpecialistSpecialty,
    User,
)
from ..accounts.systems import SystemAccount
from ..audit.models import AuditEntry
from ..bus.outbox import OutboxEvent
from ..calls.models import CallOptions, CallParticipation, CallTicket, ChatMessage
from ..coding.models import CodingFeedback
from ..consent.models import BreakGlassSession, ConsentGrant, ConsentRequest
from ..consultations.models import Consultation, IdempotencyRecord
from ..facilities.models import Facility
from ..fhir.imports import ImportedResource
from ..files.models import FileBlob, StoredFile, Upload, UploadChunk
from ..ledger.models import ChainHead
from ..measurements.models import AttentionItem, Observation
from ..notify.models import Message, MessagePreference
from ..passport.models import PassportEntry
from ..patients.models import Patient
from ..programmes.models import Enrolment, Programme
from ..proof.models import ProofFlag
from ..scheduling.models import AvailabilityWindow, Slot
from ..stats.models import StatsRollup
from .base import Base

__all__ = [
    "AttentionItem",
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
    "CodingFeedback",
    "ConsentGrant",
    "ConsentRequest",
    "Consultation",
    "Enrolment",
    "Facility",
    "FileBlob",
    "IdempotencyRecord",
    "ImportedResource",
    "LoginFailure",
    "Message",
    "MessagePreference",
    "Observation",
    "OutboxEvent",
    "PassportEntry",
    "PasswordReset",
    "Patient",
    "Programme",
    "ProofFlag",
    "Slot",
    "SpecialistSpecialty",
    "StatsRollup",
    "StoredFile",
    "SystemAccount",
    "Upload",
    "UploadChunk",
    "User",
]
