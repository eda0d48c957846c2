"""The consultation lifecycle as pure rules.

``requested → scheduled → in_progress → completed``, or ``cancelled`` / ``no_show``.
Video consultations are booked straight into ``scheduled`` (they hold a slot); async cases
wait ``requested`` in their specialty's queue until a specialist claims them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from ..errors import Conflict, field_error

JOIN_EARLY = timedelta(minutes=15)


class Status(StrEnum):
    requested = "requested"
    scheduled = "scheduled"
    in_progress = "in_progress"
    completed = "completed"
    cancelled = "cancelled"
    no_show = "no_show"


class Mode(StrEnum):
    video = "video"
    async_ = "async"


class Urgency(StrEnum):
    emergency = "emergency"
    urgent = "urgent"
    routine = "routine"


URGENCY_RANK = {Urgency.emergency: 0, Urgency.urgent: 1, Urgency.routine: 2}


class Action(StrEnum):
    claim = "claim"
    start = "start"
    complete = "complete"
    cancel = "cancel"
    no_show = "no-show"


_TRANSITIONS: dict[tuple[Mode, Action], tuple[frozenset[Status], Status]] = {
    (Mode.video, Action.start): (frozenset({Status.scheduled}), Status.in_progress),
    (Mode.video, Action.complete): (frozenset({Status.in_progress}), Status.completed),
    (Mode.video, Action.no_show): (frozenset({Status.scheduled}), Status.no_show),
    (Mode.video, Action.cancel): (
        frozenset({Status.requested, Status.scheduled}),
        Status.cancelled,
    ),
    (Mode.async_, Action.claim): (frozenset({Status.requested}), Status.in_progress),
    (Mode.async_, Action.complete): (frozenset({Status.in_progress}), Status.completed),
    (Mode.async_, Action.cancel): (frozenset({Status.requested}), Status.cancelled),
}


class IllegalTransition(Conflict):
    default_detail = "This consultation cannot do that in its current state."
    default_code = "illegal_transition"


def next_status(mode: Mode, status: Status, action: Action) -> Status:
    """The status after ``action``, or :class:`IllegalTransition` (409)."""
    rule = _TRANSITIONS.get((mode, action))
    if rule is None:
        raise IllegalTransition(
            f"A {mode.value} consultation cannot {action.value}.", code="action_not_for_mode"
        )
    sources, target = rule
    if status not in sources:
        raise IllegalTransition(
            f"Cannot {action.value} a consultation that is {status.value}.",
            code="illegal_transition",
        )
    return target


def check_timing(action: Action, now: datetime, starts_at: datetime | None) -> None:
    """A video call may start 15 minutes before its slot; a no-show only after it began."""
    if starts_at is None:
        return
    if action == Action.start and now < starts_at - JOIN_EARLY:
        raise IllegalTransition(
            "The consultation can be started 15 minutes before its slot.", code="too_early_to_start"
        )
    if action == Action.no_show and now < starts_at:
        raise IllegalTransition(
            "A no-show can be recorded only after the slot has begun.", code="no_show_too_early"
        )


def call_opens_at(mode: str, starts_at: datetime | None) -> datetime | None:
    """When a video call can be joined: :data:`JOIN_EARLY` before its slot."""
    if mode != Mode.video or starts_at is None:
        return None
    return starts_at - JOIN_EARLY


def require_conclusion(action: Action, conclusion: str | None) -> None:
    """Completing needs a conclusion for the referring GP (422 on ``conclusion``)."""
    if action == Action.complete and not (conclusion or "").strip():
        raise field_error("conclusion", "a conclusion is required to complete", "missing")
