"""The proof-of-service rules: joint connected time, a written conclusion, the reasons."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from teleconsult.proof.flags import Reason, joint_seconds, reasons, written

T0 = datetime(2030, 3, 4, 4, 0, tzinfo=UTC)
SPECIALIST, GP, PATIENT = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_only_time_with_the_specialist_and_someone_else_counts() -> None:
    stays = [
        (GP, at(0), at(300)),
        (PATIENT, at(0), at(300)),  # the GP and the patient alone: not a consultation
        (SPECIALIST, at(240), at(400)),
    ]
    assert joint_seconds(stays, SPECIALIST, until=at(1000)) == 60


def test_reconnections_are_not_counted_twice_and_open_stays_run_to_the_end() -> None:
    stays = [
        (SPECIALIST, at(0), at(50)),
        (SPECIALIST, at(40), None),  # reconnected before the first connection dropped
        (GP, at(10), at(30)),
        (PATIENT, at(20), None),
    ]
    assert joint_seconds(stays, SPECIALIST, until=at(100)) == 90


def test_nobody_or_the_specialist_alone_is_no_time() -> None:
    assert joint_seconds([], SPECIALIST, until=at(100)) == 0
    assert joint_seconds([(SPECIALIST, at(0), at(90))], SPECIALIST, until=at(100)) == 0


def test_an_invited_specialist_is_no_counterpart() -> None:
    invited = uuid.uuid4()
    stays = [(SPECIALIST, at(0), at(300)), (invited, at(0), at(300)), (PATIENT, at(200), at(230))]
    assert joint_seconds(stays, SPECIALIST, until=at(1000), counterparts={GP, PATIENT}) == 30
    assert joint_seconds(stays, SPECIALIST, until=at(1000)) == 300


def test_a_written_conclusion_has_words_in_it() -> None:
    assert not written(None)
    assert not written("ok.")
    assert not written(" - - - ")
    assert written("Синусовый ритм, без ишемии.")
    assert written("Жүрек ырғағы қалыпты.")


def test_reasons() -> None:
    video = {"mode": "video", "conclusion": "Seen and advised.", "starts_at": at(0)}
    assert reasons(**video, completed_at=at(900), connected=60) == []
    assert reasons(**video, completed_at=at(900), connected=59.5) == [Reason.no_joint_minute]
    assert reasons(**video, completed_at=at(-60), connected=None) == [
        Reason.no_joint_minute,
        Reason.before_slot,
    ]
    case = {"mode": "async", "starts_at": None, "completed_at": at(0), "connected": None}
    assert reasons(**case, conclusion="ok") == [Reason.no_conclusion]
    assert reasons(**case, conclusion="Sinus rhythm; continue the treatment.") == []
