"""Keep ICE on 127.0.0.1: tests and single-machine demonstrations send no media elsewhere."""

from __future__ import annotations

import aioice.ice


def _loopback_addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
    return ["127.0.0.1"] if use_ipv4 else []


def use_loopback_host_candidates() -> None:
    """Make aioice offer only a 127.0.0.1 host candidate, for this whole process.

    aioice has no per-connection option for this and skips loopback by default; the
    setting ``call_loopback_only`` turns this on, never in production.
    """
    aioice.ice.get_host_addresses = _loopback_addresses
