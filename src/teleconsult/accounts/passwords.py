"""Passwords: what a new one must be, and argon2id hashing in a worker thread (the event loop
never waits on it)."""

from __future__ import annotations

import asyncio
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 12


@cache
def _common() -> frozenset[str]:
    # The 30,000 most used passwords of public breaches, as zxcvbn ships them.
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def password_problem(password: str) -> str | None:
    """Why a new password is refused, or None: long enough and not one everybody tries."""
    if len(password) < MIN_LENGTH:
        return f"at least {MIN_LENGTH} characters"
    folded = password.casefold()
    if folded in _common() or len(set(folded)) == 1:
        return "too common; choose a longer phrase of your own"
    return None


class Passwords:
    def __init__(self, time_cost: int = 3, memory_kib: int = 65536) -> None:
        self._hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=1)
        # A real hash to verify against when the account does not exist, so both paths take
        # the same time and usernames cannot be discovered by timing.
        self._decoy = self._hasher.hash("decoy-password-for-timing")

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hasher.hash, password)

    def hash_sync(self, password: str) -> str:
        return self._hasher.hash(password)

    async def verify(self, password_hash: str | None, password: str) -> bool:
        return await asyncio.to_thread(self._verify, password_hash, password)

    def _verify(self, password_hash: str | None, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash or self._decoy, password) and bool(
                password_hash
            )
        except (VerificationError, InvalidHashError):
            return False
