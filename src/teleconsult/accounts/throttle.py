"""Sign-in throttling, the rule alone: who must wait before the next password is checked.

Three limits, so that throttling cannot be turned against a user who only has a username:

- an (account, address) pair gets a few free tries, then backs off exponentially: an
  attacker guessing from one address slows down, while the account's owner signing in from
  another address is not affected;
- an address has a ceiling over all the accounts it tries (one address spraying many
  usernames stops);
- an account has a global ceiling over all addresses, high enough that only a distributed
  attack reaches it.

Every attempt is counted (``accounts/service.py: login`` records it before the password is
checked, serialised per account and address), so concurrent guesses count exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Limits:
    window: timedelta
    free_tries_per_pair: int
    max_backoff: timedelta
    per_address: int
    per_account: int


@dataclass(frozen=True)
class Recent:
    """Failed (or not yet checked) attempts within the window."""

    pair: int
    pair_last: datetime | None
    address: int
    address_oldest: datetime | None
    account: int
    account_oldest: datetime | None


def backoff(failures: int, limits: Limits) -> timedelta:
    """How long after the last failure a pair that failed this often must wait."""
    beyond = failures - limits.free_tries_per_pair
    if beyond < 0:
        return timedelta(0)
    return min(timedelta(seconds=2**beyond), limits.max_backoff)


def retry_after(recent: Recent, limits: Limits, now: datetime) -> int | None:
    """Seconds to wait before the next attempt may be checked, or None if it may be now."""
    waits: list[timedelta] = []
    if recent.account >= limits.per_account and recent.account_oldest is not None:
        waits.append(recent.account_oldest + limits.window - now)
    if recent.address >= limits.per_address and recent.address_oldest is not None:
        waits.append(recent.address_oldest + limits.window - now)
    if recent.pair_last is not None:
        waits.append(recent.pair_last + backoff(recent.pair, limits) - now)
    longest = max(waits, default=timedelta(0))
    if longest <= timedelta(0):
        return None
    return max(1, math.ceil(longest.total_seconds()))
