"""Pure call rules: the join window, TURN REST credentials, ticket tokens, message checks."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ..consultations.lifecycle import JOIN_EARLY, Status

JOIN_LATE = timedelta(minutes=60)
MAX_SDP_BYTES = 64 * 1024
MAX_CANDIDATE_BYTES = 4 * 1024
MAX_PEER_ID = 40
RELAYED_TYPES = frozenset({"offer", "answer", "candidate", "bye", "step"})
# The steps a sender can be on: 0 full video ... 3 audio only (web/js/call/steps.js).
MAX_STEP = 3
MAX_CHAT_CHARS = 2000


def call_is_open(
    status: str, starts_at: datetime | None, ends_at: datetime | None, now: datetime
) -> bool:
    """A call opens 15 minutes before the slot and closes 60 minutes after its end.

    While a consultation is in progress its call stays open whatever the clock says.
    """
    if status == Status.in_progress:
        return True
    if status != Status.scheduled or starts_at is None:
        return False
    ends = ends_at or starts_at
    return starts_at - JOIN_EARLY <= now <= ends + JOIN_LATE


def turn_credentials(secret: str, user_id: str, now: datetime, ttl_seconds: int) -> tuple[str, str]:
    """TURN REST API credentials: ``expiry:user`` and base64(HMAC-SHA1(secret, username)).

    coturn's ``use-auth-secret`` checks the same HMAC, so no per-user state is shared.
    """
    expiry = int(now.timestamp()) + ttl_seconds
    username = f"{expiry}:{user_id}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode()


def ice_servers(
    stun_urls: list[str],
    turn_urls: list[str],
    turn_secret: str | None,
    user_id: str,
    now: datetime,
    ttl_seconds: int,
) -> list[dict[str, Any]]:
    """The ``iceServers`` list a browser's RTCPeerConnection takes as it is."""
    servers: list[dict[str, Any]] = []
    if stun_urls:
        servers.append({"urls": list(stun_urls)})
    if turn_urls and turn_secret:
        username, credential = turn_credentials(turn_secret, user_id, now, ttl_seconds)
        servers.append({"urls": list(turn_urls), "username": username, "credential": credential})
    return servers


def new_ticket() -> str:
    return secrets.token_urlsafe(32)


def ticket_hash(ticket: str) -> str:
    return hashlib.sha256(ticket.encode()).hexdigest()


def new_peer_id() -> str:
    return secrets.token_hex(8)


def is_polite(peer_id: str, others: list[str]) -> bool:
    """Perfect negotiation needs exactly one polite side when both offer at once.

    Peers that see each other compare ids, so the two sides always disagree; a peer alone
    in the room is polite (it waits for the newcomer's offer). In a call of three, each pair
    negotiates its own connection: ask with ``others=[that peer]``.
    """
    return all(peer_id > other for other in others)


class BadSignal(ValueError):
    """A client's message that is not relayed; ``error`` is the machine-readable reason."""

    def __init__(self, error: str, detail: str) -> None:
        super().__init__(detail)
        self.error = error
        self.detail = detail


@dataclass(frozen=True)
class Signal:
    """A checked client message, ready to relay."""

    type: str
    body: dict[str, Any]
    to: str | None = None


def parse_signal(raw: str) -> Signal:
    """Check one client message; anything unexpected is a :class:`BadSignal`, never a crash."""
    if len(raw.encode()) > MAX_SDP_BYTES + 1024:
        raise BadSignal("too_large", "The message is larger than 64 KiB.")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise BadSignal("malformed", "The message is not valid JSON.") from None
    if not isinstance(data, dict):
        raise BadSignal("malformed", "The message must be a JSON object.")
    kind = data.get("type")
    if kind == "ping":
        return Signal("ping", {})
    if kind not in RELAYED_TYPES:
        raise BadSignal("unknown_type", "Unknown message type.")
    to = data.get("to")
    if to is not None and (not isinstance(to, str) or len(to) > MAX_PEER_ID):
        raise BadSignal("malformed", "'to' must be a peer id.")
    if kind in ("offer", "answer"):
        sdp = data.get("sdp")
        if not isinstance(sdp, str) or not sdp:
            raise BadSignal("malformed", "'sdp' must be a non-empty string.")
        if len(sdp.encode()) > MAX_SDP_BYTES:
            raise BadSignal("too_large", "The SDP is larger than 64 KiB.")
        return Signal(kind, {"type": kind, "sdp": sdp}, to)
    if kind == "candidate":
        candidate = data.get("candidate")
        if candidate is not None and not isinstance(candidate, dict):
            raise BadSignal("malformed", "'candidate' must be an object or null.")
        if candidate is not None and len(json.dumps(candidate)) > MAX_CANDIDATE_BYTES:
            raise BadSignal("too_large", "The candidate is too large.")
        return Signal(kind, {"type": kind, "candidate": candidate}, to)
    if kind == "step":
        step = data.get("step")
        if isinstance(step, bool) or not isinstance(step, int) or not 0 <= step <= MAX_STEP:
            raise BadSignal("malformed", f"'step' must be a whole number from 0 to {MAX_STEP}.")
        return Signal(kind, {"type": kind, "step": step}, to)
    return Signal(kind, {"type": kind}, to)


class FloodGate:
    """A token bucket: ``rate`` messages a second, bursts up to ``rate``."""

    def __init__(self, rate: int, now: float) -> None:
        self.rate = rate
        self.tokens = float(rate)
        self.at = now

    def allow(self, now: float) -> bool:
        self.tokens = min(float(self.rate), self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True
