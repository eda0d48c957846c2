"""Import every table so that metadata (alembic, tests) sees them all."""

from ..accounts.models import AuthToken, LoginFailure, SpecialistSpecialty, User
from ..consultations.models import Consultation, IdempotencyRecord
from ..facilities.models import Facility
from ..patients.models import Patient
from ..scheduling.models import AvailabilityWindow, Slot
from ..stats.models import StatsRollup
from .base import Base

__all__ = [
    "AuthToken",
    "AvailabilityWindow",
    "Base",
    "Consultation",
    "Facility",
    "IdempotencyRecord",
    "LoginFailure",
    "Patient",
    "Slot",
    "SpecialistSpecialty",
    "StatsRollup",
    "User",
]
