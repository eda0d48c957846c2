from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from teleconsult.consultations.lifecycle import (
    Action,
    IllegalTransition,
    Mode,
    Status,
    check_timing,
    next_status,
)


@pytest.mark.parametrize(
    ("mode", "status", "action", "expected"),
    [
        (Mode.video, Status.scheduled, Action.start, Status.in_progress),
        (Mode.video, Status.in_progress, Action.complete, Status.completed),
        (Mode.video, Status.scheduled, Action.cancel, Status.cancelled),
        (Mode.video, Status.scheduled, Action.no_show, Status.no_show),
        (Mode.async_, Status.requested, Action.claim, Status.in_progress),
        (Mode.async_, Status.in_progress, Action.complete, Status.completed),
        (Mode.async_, Status.requested, Action.cancel, Status.cancelled),
    ],
)
def test_legal_transitions(mode: Mode, status: Status, action: Action, expected: Status) -> None:
    assert next_status(mode, status, action) == expected


def test_every_other_transition_is_illegal() -> None:
    legal = {
        (Mode.video, Status.scheduled, Action.start),
        (Mode.video, Status.in_progress, Action.complete),
        (Mode.video, Status.requested, Action.cancel),
        (Mode.video, Status.scheduled, Action.cancel),
        (Mode.video, Status.scheduled, Action.no_show),
        (Mode.async_, Status.requested, Action.claim),
        (Mode.async_, Status.in_progress, Action.complete),
        (Mode.async_, Status.requested, Action.cancel),
    }
    for mode in Mode:
        for status in Status:
            for action in Action:
                if (mode, status, action) in legal:
                    continue
                with pytest.raises(IllegalTransition):
                    next_status(mode, status, action)


def test_terminal_states_accept_nothing() -> None:
    for status in (Status.completed, Status.cancelled, Status.no_show):
        for action in Action:
            with pytest.raises(IllegalTransition):
                next_status(Mode.video, status, action)


def test_start_is_allowed_from_fifteen_minutes_before_the_slot() -> None:
    slot = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    check_timing(Action.start, slot - timedelta(minutes=15), slot)
    with pytest.raises(IllegalTransition):
        check_timing(Action.start, slot - timedelta(minutes=15, seconds=1), slot)


def test_no_show_only_after_the_slot_began() -> None:
    slot = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    with pytest.raises(IllegalTransition):
        check_timing(Action.no_show, slot - timedelta(seconds=1), slot)
    check_timing(Action.no_show, slot, slot)
