"""A patient's account made for a call: the GP invites a patient who has no account but has
a phone, and the call (which knows people by their accounts) needs one to send the link to.

The account is an ordinary patient account linked to the record, with no usable password:
nobody can sign in with it (``NO_PASSWORD`` is not a hash any password matches). It is
reached only through the one-time call links sent to the record's phone (``calls/links.py``),
which open call-only sessions. The patient may later be given a real account: the
invitation (``accounts/admin.py: patient_account``) takes this one over, names it and sends
the link to choose a password.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from ..codes import Role
from ..patients.models import Patient
from .models import User

# Usernames of the accounts made for a call; never chosen by a person (see admin.py).
PREFIX = "call-"


def no_password() -> str:
    """A stored "hash" no password verifies against (argon2 refuses it as a hash)."""
    return "!" + secrets.token_hex(16)


def is_call_account(user: User) -> bool:
    """Made for a call and never given a password."""
    return user.username.startswith(PREFIX) and user.password_hash.startswith("!")


def patient_user(patient: Patient, username: str, now: datetime, email: str | None = None) -> User:
    """A new account for the patient, with no password anybody knows: the patient chooses
    theirs through a one-time link, or (a call's account) never has one."""
    return User(
        username=username,
        password_hash=no_password(),
        full_name=patient.full_name,
        role=Role.patient.value,
        facility_id=patient.facility_id,
        patient_id=patient.id,
        on_call=False,
        is_active=True,
        created_at=now,
        email=email,
    )


def call_account(patient: Patient, now: datetime) -> User:
    """A new account for the patient's calls (added by the caller, in its transaction)."""
    return patient_user(patient, PREFIX + patient.id.hex, now)
