"""Import every table so that metadata (alembic, tests) sees them all."""

from ..accounts.models import AuthToken, LoginFailure, SpecialistSpecialty, User
from ..calls.models import CallOptions, CallParticipation, CallTicket
from ..consultations.models import Consultation, IdempotencyRecord
from ..facilities.models import Facility
from ..patients.models import Patient
from ..scheduling.models import AvailabilityWindow, Slot
from .base import Base

__all__ = [
    "AuthToken",
    "AvailabilityWindow",
    "Base",
    "CallOptions",
    "CallParticipation",
    "CallTicket",
    "Consultation",
    "Facility",
    "IdempotencyRecord",
    "LoginFailure",
    "Patient",
    "Slot",
    "SpecialistSpecialty",
    "User",
]
