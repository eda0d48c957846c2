"""The rollups against a plain aggregation over the consultations table.

Random histories go through the real service functions (booking, claim, start, complete,
cancel, no-show, each in its own unit of work, failures rolled back); after each one the
statistics read from the rollups must equal those computed from the raw rows: exactly for
counts, within the sketch's stated bound for percentiles. The report cache, filled before
the history, must then give exactly the reports read afresh.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from rich.console import Console
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from teleconsult.accounts.models import User
from teleconsult.accounts.passwords import Passwords
from teleconsult.accounts.schemas import UserCreate
from teleconsult.accounts.service import create_user
from teleconsult.bus.memory import MemoryBus
from teleconsult.codes import Role
from teleconsult.consultations import service as consultations
from teleconsult.consultations.lifecycle import Action
from teleconsult.consultations.models import Consultation
from teleconsult.consultations.schemas import ConsultationCreate
from teleconsult.db.engine import make_sessionmaker
from teleconsult.db.uow import unit_of_work
from teleconsult.errors import DomainError
from teleconsult.facilities.models import Facility
from teleconsult.patients.models import Patient
from teleconsult.scheduling.schemas import AvailabilityCreate
from teleconsult.scheduling.service import publish_availability
from teleconsult.seed.history import generate_history
from teleconsult.stats import sketch
from teleconsult.stats.cache import ReportCache
from teleconsult.stats.cells import REPORTING_TZ, RESPONSE_TARGETS
from teleconsult.stats.periods import Granularity
from teleconsult.stats.schemas import StatsFilter
from teleconsult.stats.service import cached_report_for, report_for, specialty_cells

from ..conftest import Database
from ..factories import valid_iin

SPECIALTIES = ["cardiology", "neurology"]
PASSWORDS = Passwords(1, 1024)
EPOCH = datetime(2025, 1, 1, tzinfo=UTC)


# --- the plain aggregation -------------------------------------------------------------------


@dataclass
class Exact:
    requested: int = 0
    completed: int = 0
    cancelled: int = 0
    no_show: int = 0
    answered: int = 0
    answered_in_target: int = 0
    wait: list[float] = field(default_factory=list)
    duration: list[float] = field(default_factory=list)
    turnaround: list[float] = field(default_factory=list)


def _bucket(day: date, granularity: Granularity | None) -> date | None:
    if granularity is None:
        return None
    if granularity == Granularity.day:
        return day
    if granularity == Granularity.week:
        return date.fromisocalendar(*day.isocalendar()[:2], 1)
    return date(day.year, day.month, 1)


def plain_aggregation(rows: list[Consultation], f: StatsFilter) -> dict[Any, Exact]:
    """Statistics straight from the consultation rows, written independently of the rollups."""
    out: dict[Any, Exact] = defaultdict(Exact)
    for c in rows:
        day = c.created_at.astimezone(REPORTING_TZ).date()
        if not f.first <= day <= f.last:
            continue
        if f.region is not None and c.region != f.region:
            continue
        if f.facility is not None and str(c.facility_id) != f.facility:
            continue
        e = out[(c.specialty, _bucket(day, f.granularity))]
        e.requested += 1
        e.completed += c.status == "completed"
        e.cancelled += c.status == "cancelled"
        e.no_show += c.status == "no_show"
        if c.started_at is not None:
            e.wait.append((c.started_at - c.created_at).total_seconds())
        answered_at = c.started_at if c.mode == "video" else c.ended_at
        if c.mode == "video" and c.call_seconds is not None:
            e.duration.append(c.call_seconds)
        elif c.mode == "video" and c.started_at and c.ended_at:
            e.duration.append((c.ended_at - c.started_at).total_seconds())
        if c.mode == "async" and c.ended_at:
            e.turnaround.append((c.ended_at - c.created_at).total_seconds())
        if answered_at is not None:
            e.answered += 1
            e.answered_in_target += answered_at - c.created_at <= RESPONSE_TARGETS[c.urgency]
    return dict(out)


def exact_quantile(values: list[float], q: Any) -> float:
    ordered = sorted(values)
    return ordered[max(1, -(-q.numerator * len(ordered) // q.denominator)) - 1]


async def assert_rollups_match(session: AsyncSession, filters: list[StatsFilter]) -> int:
    """Compare every filter; returns how many (specialty, period) cells were compared."""
    rows = list(await session.scalars(select(Consultation)))
    compared = 0
    for f in filters:
        expected = plain_aggregation(rows, f)
        fast = {(c.specialty, c.period): c.cell for c in await specialty_cells(session, f)}
        assert set(fast) == set(expected), f
        compare(f, fast, expected)
        compared += len(expected)
    return compared


def compare(f: StatsFilter, fast: dict[Any, Any], expected: dict[Any, Exact]) -> None:
    for key, e in expected.items():
        cell = fast[key]
        counts = (
            cell.requested,
            cell.completed,
            cell.cancelled,
            cell.no_show,
            cell.answered,
            cell.answered_in_target,
        )
        assert counts == (
            e.requested,
            e.completed,
            e.cancelled,
            e.no_show,
            e.answered,
            e.answered_in_target,
        ), (f, key)
        for name, q in (
            ("wait", sketch.MEDIAN),
            ("wait", sketch.P90),
            ("duration", sketch.MEDIAN),
            ("turnaround", sketch.MEDIAN),
        ):
            values = getattr(e, name)
            summary = sketch.Summary(getattr(cell, name))
            assert summary.n == len(values), (f, key, name)
            if values:
                exact = exact_quantile(values, q)
                estimate = summary.quantile(q)
                assert estimate is not None
                bound = max(sketch.RELATIVE_ERROR * exact, sketch.ABSOLUTE_ERROR_SECONDS)
                assert abs(estimate - exact) <= bound * (1 + 1e-9), (f, key, name, exact, estimate)


def filters(first: date, last: date, places: list[tuple[str, str]]) -> list[StatsFilter]:
    """Every granularity at the country, region and facility levels."""
    out = []
    for granularity in (None, *Granularity):
        out.append(StatsFilter(first, last, granularity=granularity))
        for region, facility in places:
            out.append(StatsFilter(first, last, region=region, granularity=granularity))
            out.append(StatsFilter(first, last, facility=facility, granularity=granularity))
            out.append(
                StatsFilter(first, last, region=region, facility=facility, granularity=granularity)
            )
    return out


# --- random histories through the services ---------------------------------------------------


@dataclass
class Network:
    admin: User
    gps: dict[uuid.UUID | None, User]
    patients: list[Patient]
    places: list[tuple[str, str]]


async def _user(session: AsyncSession, role: Role, **kw: Any) -> User:
    data = UserCreate(
        username=f"{role.value}-{uuid.uuid4().hex[:10]}",
        password="a long passphrase",
        full_name="Test",
        role=role,
        **kw,
    )
    return await create_user(session, PASSWORDS, data)


async def build_network(sessionmaker: Any) -> Network:
    """Two rural clinics in two regions with a GP and patients each, and a patient with none."""
    async with unit_of_work(sessionmaker) as session:
        admin = await _user(session, Role.admin)
        gps: dict[uuid.UUID | None, User] = {None: admin}
        patients = []
        places = []
        for region in ("pavlodar", "kyzylorda"):
            clinic = Facility(name=f"Clinic {region}", region=region, level="primary")
            session.add(clinic)
            await session.flush()
            places.append((region, str(clinic.id)))
            gps[clinic.id] = await _user(session, Role.gp, facility_id=clinic.id)
            for _ in range(2):
                patients.append(
                    Patient(
                        iin=valid_iin(),
                        full_name="P",
                        birth_date=date(1980, 1, 1),
                        sex="female",
                        facility_id=clinic.id,
                    )
                )
        patients.append(
            Patient(
                iin=valid_iin(),
                full_name="P",
                birth_date=date(1980, 1, 1),
                sex="female",
                facility_id=None,
            )
        )
        session.add_all(patients)
        await session.flush()
    return Network(admin, gps, patients, places)


DELAYS = [1, 7, 20, 45, 90, 200, 400, 1440, 4000, 21000]
PATHS = {
    "video": [["start", "complete"], ["start", "complete"], ["cancel"], ["no-show"], ["start"], []],
    "async": [["claim", "complete"], ["claim", "complete"], ["cancel"], ["claim"], []],
}

consultation_plans = st.sampled_from(["video", "async"]).flatmap(
    lambda mode: st.fixed_dictionaries(
        {
            "mode": st.just(mode),
            "book_at": st.integers(0, 600),
            "patient": st.integers(0, 4),
            "specialty": st.sampled_from(SPECIALTIES),
            "urgency": st.sampled_from(["routine", "urgent", "emergency"]),
            # A sensible path, sometimes followed by a move the lifecycle must refuse.
            "actions": st.tuples(
                st.sampled_from(PATHS[mode]), st.lists(st.sampled_from(list(Action)), max_size=1)
            ).map(lambda t: [*t[0], *(a.value for a in t[1])]),
            "delays": st.lists(st.sampled_from(DELAYS), min_size=3, max_size=3),
        }
    )
)


async def run_history(
    sessionmaker: Any, net: Network, start: datetime, plans: list[dict[str, Any]]
) -> None:
    """Apply the plans' bookings and actions in time order, each in its own unit of work."""
    async with unit_of_work(sessionmaker) as session:
        specialist = await _user(
            session,
            Role.specialist,
            facility_id=net.patients[0].facility_id,
            specialties=SPECIALTIES,
        )
        await publish_availability(
            session,
            net.admin,
            specialist.id,
            AvailabilityCreate(
                starts_at=start + timedelta(hours=1), ends_at=start + timedelta(hours=9)
            ),
            now=start,
            default_slot_minutes=20,
        )
    steps: list[tuple[datetime, int, int, str]] = []
    for i, plan in enumerate(plans):
        at = start + timedelta(minutes=plan["book_at"])
        steps.append((at, i, 0, "book"))
        for j, (action, delay) in enumerate(zip(plan["actions"], plan["delays"], strict=False)):
            at += timedelta(minutes=delay)
            steps.append((at, i, j + 1, action))
    booked: dict[int, uuid.UUID] = {}
    for now, i, _, step in sorted(steps):
        plan = plans[i]
        if step != "book" and i not in booked:
            continue
        try:
            async with unit_of_work(sessionmaker) as session:
                if step == "book":
                    patient = net.patients[plan["patient"]]
                    c = await consultations.book_consultation(
                        session,
                        net.gps[patient.facility_id],
                        ConsultationCreate(
                            patient_id=patient.id,
                            specialty=plan["specialty"],
                            mode=plan["mode"],
                            urgency=plan["urgency"],
                            reason="test",
                        ),
                        now=now,
                    )
                    booked[i] = c.id
                else:
                    c = await session.get_one(Consultation, booked[i])
                    if step == Action.cancel:
                        actor = await session.get_one(User, c.requester_id)
                    else:
                        actor = await session.get_one(User, c.specialist_id or specialist.id)
                    await consultations.transition(session, actor, c.id, Action(step), now=now)
            event(f"{plan['mode']} {step} succeeded")
        except DomainError:
            event(f"{plan['mode']} {step} refused")


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    plans=st.lists(consultation_plans, min_size=1, max_size=12),
    start_day=st.integers(0, 420),
    start_minute=st.integers(0, 24 * 60 - 1),
    window=st.tuples(st.integers(-40, 440), st.integers(0, 120)),
)
async def test_rollups_equal_a_plain_aggregation_over_random_histories(
    database: Database,
    plans: list[dict[str, Any]],
    start_day: int,
    start_minute: int,
    window: tuple[int, int],
) -> None:
    # Examples accumulate in one database: the comparison covers every history so far.
    bus = MemoryBus()
    cache = ReportCache(bus, ttl=3600)
    listening = asyncio.create_task(cache.listen())
    sessionmaker = make_sessionmaker(database.engine, info=cache.session_info)
    async with sessionmaker() as session:
        admin = await session.scalar(select(User).where(User.role == Role.admin))
    if admin is None:
        net = await build_network(sessionmaker)
        NETWORKS[database.url] = net
    net = NETWORKS[database.url]
    start = EPOCH + timedelta(days=start_day, minutes=start_minute)
    first = EPOCH.date() + timedelta(days=window[0])
    last = first + timedelta(days=window[1])
    # The drawn window at every level and granularity, and the whole history at once.
    checked = [
        *filters(first, last, net.places),
        StatsFilter(date(2024, 12, 1), date(2026, 12, 31)),
    ]
    for _ in range(10):  # the in-process bus subscribes at the first switch
        await asyncio.sleep(0)
    assert cache.subscribed
    async with sessionmaker() as session:
        for f in checked:
            await cached_report_for(session, cache, f)

    await run_history(sessionmaker, net, start, plans)

    async with sessionmaker() as session:
        await assert_rollups_match(session, checked)
        for f in checked:
            cached = await cached_report_for(session, cache, f)
            assert cached.report == await report_for(session, f), f
    listening.cancel()
    await asyncio.gather(listening, return_exceptions=True)
    await bus.close()


NETWORKS: dict[str, Network] = {}


async def test_generated_history_fills_the_rollups_consistently(database: Database) -> None:
    sessionmaker = make_sessionmaker(database.engine)
    await generate_history(sessionmaker, 3000, rng=random.Random(3), console=Console(quiet=True))
    await generate_history(sessionmaker, 500, rng=random.Random(4), console=Console(quiet=True))
    async with sessionmaker() as session:
        places = [
            (r, str(i))
            for r, i in (
                await session.execute(
                    select(Facility.region, Facility.id).order_by(Facility.name).limit(2)
                )
            )
        ]
        rows = await session.scalar(select(Consultation.id).limit(1))
        assert rows is not None
        today = datetime.now(UTC).astimezone(REPORTING_TZ).date()
        assert (
            await assert_rollups_match(session, filters(today - timedelta(days=400), today, places))
            > 0
        )
