"""A realistic national consultation history, generated fast, with its rollups.

Shape of the history (about two years, ending now):

- patients live in regions weighted by population and are attached to rural clinics there;
- specialties are weighted as in practice: cardiology, pulmonology and neurology lead;
- three quarters are video calls, a quarter async cases; 75% routine, 20% urgent, 5%
  emergency; requests come mostly on weekdays in working hours (national time);
- waiting times are log-normal around a median per urgency (20 minutes, 8 hours, 4 days),
  so some miss their target; calls last about 18 minutes; async answers follow the claim
  by a few hours; some video calls are cancelled or end as no-shows.

Everything is written in one transaction (``COPY`` on PostgreSQL, multi-row inserts
elsewhere) together with the rollup rows, so the statistics match the rows exactly. The
staff it creates cannot log in (their password hash is unusable).
"""

from __future__ import annotations

import math
import random
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..accounts.models import SpecialistSpecialty, User
from ..codes import REGIONS, CareLevel, Role
from ..consultations.lifecycle import URGENCY_RANK, Urgency
from ..db.uow import unit_of_work
from ..facilities.models import Facility
from ..patients.iin import make_iin
from ..patients.models import Patient
from ..stats import sketch
from ..stats.cells import (
    ALL,
    COUNTERS,
    DAY,
    HISTOGRAMS,
    MONTH,
    Facts,
    Key,
    finest_key,
    measures,
    month_of,
)
from ..stats.rollups import KEY_COLUMNS, bulk_insert, merge_rows

HISTORY_DAYS = 730
BATCH = 20_000
UNUSABLE_PASSWORD = "!history-staff-cannot-log-in"

# Population in thousands (2024 estimates), which weighs where patients live.
POPULATION: dict[str, int] = {
    "astana": 1_400, "almaty_city": 2_230, "shymkent": 1_230, "abai": 600, "akmola": 790,
    "aktobe": 930, "almaty_region": 1_530, "atyrau": 700, "east_kazakhstan": 720,
    "jambyl": 1_220, "jetisu": 700, "karaganda": 1_130, "kostanay": 830, "kyzylorda": 830,
    "mangystau": 780, "north_kazakhstan": 530, "pavlodar": 750, "turkistan": 2_130,
    "ulytau": 220, "west_kazakhstan": 690,
}  # fmt: skip

# Share of teleconsultations by specialty (the three leading ones are about 60%).
SPECIALTY_WEIGHTS: dict[str, float] = {
    "cardiology": 28, "pulmonology": 17, "neurology": 15, "endocrinology": 8, "pediatrics": 7,
    "oncology": 5, "nephrology": 4, "gastroenterology": 4, "psychiatry": 3, "dermatology": 3,
    "obstetrics": 2, "ophthalmology": 1.5, "traumatology": 1.2, "infectious_diseases": 0.8,
    "rheumatology": 0.5,
}  # fmt: skip

URGENCY_WEIGHTS = {Urgency.routine: 75, Urgency.urgent: 20, Urgency.emergency: 5}
# Median wait (seconds) from request to start, and the log-normal spread.
WAIT_MEDIAN = {Urgency.emergency: 20 * 60, Urgency.urgent: 8 * 3600, Urgency.routine: 4 * 86400}
WAIT_SIGMA = 0.9
ASYNC_SHARE = 0.25
VIDEO_CANCELLED = 0.08
VIDEO_NO_SHOW = 0.05
ASYNC_CANCELLED = 0.05
REASONS = [
    "chest pain on exertion", "shortness of breath", "persistent headache", "ECG review",
    "uncontrolled blood pressure", "spirometry review", "seizure follow-up", "HbA1c review",
    "suspicious skin lesion", "abdominal pain", "follow-up after discharge",
]  # fmt: skip
GIVEN = ["Arman", "Aizhan", "Daniyar", "Dinara", "Askar", "Kamila", "Berik", "Laura"]
SURNAMES = ["Akhmetov", "Bekov", "Karimov", "Omarov", "Sultanov", "Utepov", "Serikov"]


def _clinics_in(region: str) -> int:
    return max(1, min(6, round(POPULATION[region] / 350)))


class _Staff:
    def __init__(self) -> None:
        self.clinics: list[tuple[uuid.UUID, str]] = []
        self.clinic_weights: list[float] = []
        self.gp_of: dict[uuid.UUID, uuid.UUID] = {}
        self.specialists: dict[str, list[uuid.UUID]] = {}


async def _staff(session: AsyncSession) -> _Staff:
    """Clinics in every region with their GPs, and specialists; reused if already there."""
    names = {f.name: f for f in await session.scalars(select(Facility))}
    users = {u.username: u for u in await session.scalars(select(User))}
    staff = _Staff()

    def facility(name: str, region: str, level: CareLevel) -> Facility:
        existing = names.get(name)
        if existing is None:
            existing = names[name] = Facility(
                id=uuid.uuid4(), name=name, region=region, level=level.value
            )
            session.add(existing)
        return existing

    def user(username: str, role: Role, facility_id: uuid.UUID) -> tuple[User, bool]:
        existing = users.get(username)
        if existing is not None:
            return existing, False
        existing = users[username] = User(
            id=uuid.uuid4(),
            username=username,
            password_hash=UNUSABLE_PASSWORD,
            full_name=f"{username} (history)",
            role=role.value,
            facility_id=facility_id,
            # Accounts behind the statistics' history, which nobody signs in to: not in the
            # directory a patient searches for a doctor (accounts.directory.find_clinicians).
            is_active=False,
        )
        session.add(existing)
        return existing, True

    hospitals = []
    clinics = []
    for region, label in REGIONS.items():
        hospitals.append(facility(f"{label} Regional Hospital", region, CareLevel.secondary))
        for k in range(1, _clinics_in(region) + 1):
            clinic = facility(f"{label} Rural Clinic No. {k}", region, CareLevel.primary)
            clinics.append((clinic, region, k))
            staff.clinics.append((clinic.id, region))
            staff.clinic_weights.append(POPULATION[region] / _clinics_in(region))
    # Facilities first: without relationships the flush does not order by foreign key.
    await session.flush()
    for clinic, region, k in clinics:
        gp, _ = user(f"history.gp.{region}.{k}", Role.gp, clinic.id)
        staff.gp_of[clinic.id] = gp.id
    for s_index, specialty in enumerate(SPECIALTY_WEIGHTS):
        staff.specialists[specialty] = []
        for k in range(1, 4):
            hospital = hospitals[(s_index * 3 + k) % len(hospitals)]
            specialist, new = user(f"history.{specialty}.{k}", Role.specialist, hospital.id)
            if new:
                await session.flush()
                session.add(SpecialistSpecialty(user_id=specialist.id, specialty=specialty))
            staff.specialists[specialty].append(specialist.id)
    await session.flush()
    return staff


def _patients(
    count: int, staff: _Staff, rng: random.Random, taken: set[str], now: datetime
) -> Iterator[dict[str, Any]]:
    clinics = rng.choices(staff.clinics, weights=staff.clinic_weights, k=count)
    made = 0
    while made < count:
        sex = rng.choice(("male", "female"))
        born = date(rng.randint(1940, 2023), rng.randint(1, 12), rng.randint(1, 28))
        iin = make_iin(born, sex, rng.randint(0, 9999))
        if iin is None or iin in taken:
            continue
        taken.add(iin)
        clinic_id, _ = clinics[made]
        made += 1
        yield {
            "id": uuid.uuid4(),
            "iin": iin,
            "full_name": f"{rng.choice(GIVEN)} {rng.choice(SURNAMES)}",
            "birth_date": born,
            "sex": sex,
            "phone": None,
            "facility_id": clinic_id,
            "registered_by": None,
            "created_at": now,
        }


def _request_time(rng: random.Random, first: datetime, days: int) -> datetime:
    """Weekdays in working hours (national time) mostly."""
    while True:
        day = rng.randrange(days)
        moment = first + timedelta(days=day)
        weekday = (moment + timedelta(hours=5)).weekday()
        if weekday >= 5 and rng.random() < 0.7:
            continue
        # 08:00-18:00 national time is 03:00-13:00 UTC; some requests at any hour.
        working_hours = rng.random() < 0.85
        seconds = rng.uniform(3 * 3600, 13 * 3600) if working_hours else rng.uniform(0, 86400)
        return moment + timedelta(seconds=seconds)


def _consultation(
    rng: random.Random,
    staff: _Staff,
    patient: tuple[uuid.UUID, uuid.UUID, str],
    first: datetime,
    now: datetime,
    specialties: list[str],
    urgencies: list[Urgency],
) -> dict[str, Any]:
    patient_id, clinic_id, region = patient
    specialty = specialties[rng.randrange(len(specialties))]
    urgency = urgencies[rng.randrange(len(urgencies))]
    created = _request_time(rng, first, HISTORY_DAYS)
    wait = timedelta(seconds=WAIT_MEDIAN[urgency] * math.exp(rng.gauss(0, WAIT_SIGMA)))
    started: datetime | None = created + wait
    ended: datetime | None = None
    cancelled: datetime | None = None
    starts_at = ends_at = None
    if rng.random() < ASYNC_SHARE:
        mode = "async"
        answer = timedelta(seconds=3 * 3600 * math.exp(rng.gauss(0, 0.8)))
        ended = started + answer if started else None
        status = "completed"
        if rng.random() < ASYNC_CANCELLED:
            status, cancelled, started, ended = "cancelled", created + wait / 2, None, None
        sort_at = created
    else:
        mode = "video"
        assert started is not None
        # The slot starts on a 20-minute boundary; people join a few minutes either side.
        starts_at = started.replace(second=0, microsecond=0)
        starts_at -= timedelta(minutes=starts_at.minute % 20)
        starts_at = max(starts_at, created + timedelta(minutes=1))
        ends_at = starts_at + timedelta(minutes=20)
        started = max(
            starts_at + timedelta(seconds=rng.uniform(-300, 480)), created + timedelta(minutes=1)
        )
        call = 18 * 60 * math.exp(rng.gauss(0, 0.35))
        ended = started + timedelta(seconds=min(max(call, 180), 5400))
        status = "completed"
        roll = rng.random()
        if roll < VIDEO_CANCELLED:
            status, cancelled, started, ended = (
                "cancelled",
                created + (starts_at - created) * rng.random(),
                None,
                None,
            )
        elif roll < VIDEO_CANCELLED + VIDEO_NO_SHOW:
            status, started, ended = "no_show", None, None
        sort_at = starts_at
    last = max(t for t in (created, started, ended, cancelled, ends_at) if t is not None)
    if last > now:
        # Everything in the past: move the whole consultation back.
        shift = last - now + timedelta(minutes=rng.randint(1, 600))
        created -= shift
        sort_at -= shift
        started, ended, cancelled, starts_at, ends_at = (
            t - shift if t is not None else None
            for t in (started, ended, cancelled, starts_at, ends_at)
        )
    choices = staff.specialists[specialty]
    specialist_id: uuid.UUID | None = choices[rng.randrange(len(choices))]
    if mode == "async" and status == "cancelled":
        specialist_id = None
    return {
        "id": uuid.uuid4(),
        "patient_id": patient_id,
        "requester_id": staff.gp_of[clinic_id],
        "specialist_id": specialist_id,
        "facility_id": clinic_id,
        "region": region,
        "specialty": specialty,
        "mode": mode,
        "urgency": urgency.value,
        "urgency_rank": URGENCY_RANK[urgency],
        "status": status,
        "reason": REASONS[rng.randrange(len(REASONS))],
        "slot_id": None,
        "starts_at": starts_at,
        "ends_at": ends_at,
        "sort_at": sort_at,
        "created_at": created,
        "started_at": started,
        "ended_at": ended,
        "cancelled_at": cancelled,
        "conclusion": "Seen; see passport." if status == "completed" else None,
    }


class _Tally:
    """A rollup cell while generating: counters and bucket counts per histogram."""

    __slots__ = ("counters", "histograms")

    def __init__(self) -> None:
        self.counters = [0] * len(COUNTERS)
        self.histograms: tuple[dict[int, int], ...] = ({}, {}, {})

    def add_facts(self, facts: Facts) -> None:
        m = measures(facts)
        counters = self.counters
        for i, n in enumerate(m.counters):
            counters[i] += n
        for histogram, seconds in zip(
            self.histograms, (m.wait, m.duration, m.turnaround), strict=True
        ):
            if seconds is not None:
                b = sketch.bucket_of(seconds)
                histogram[b] = histogram.get(b, 0) + 1

    def add(self, other: _Tally) -> None:
        counters = self.counters
        for i, n in enumerate(other.counters):
            counters[i] += n
        for mine, theirs in zip(self.histograms, other.histograms, strict=True):
            for b, n in theirs.items():
                mine[b] = mine.get(b, 0) + n


def _sum_by(cells: dict[Key, _Tally], coarser: Callable[[Key], Key]) -> dict[Key, _Tally]:
    out: dict[Key, _Tally] = {}
    for key, tally in cells.items():
        target = coarser(key)
        into = out.get(target)
        if into is None:
            out[target] = into = _Tally()
        into.add(tally)
    return out


def _rollup_rows(finest: dict[Key, _Tally]) -> list[dict[str, Any]]:
    """Every rollup row fed by one month of facility × day cells, summed level by level."""
    region_days = _sum_by(finest, lambda k: (DAY, k[1], k[2], k[3], ALL))
    country_days = _sum_by(region_days, lambda k: (DAY, k[1], k[2], ALL, ALL))
    rows: dict[Key, _Tally] = {}
    for days in (finest, region_days, country_days):
        rows.update(days)
        rows.update(_sum_by(days, lambda k: (MONTH, month_of(k[1]), k[2], k[3], k[4])))
    return [
        dict(zip(KEY_COLUMNS, key, strict=True))
        | dict(zip(COUNTERS, tally.counters, strict=True))
        | {h: sketch.encode_counts(c) for h, c in zip(HISTOGRAMS, tally.histograms, strict=True)}
        for key, tally in sorted(rows.items())
    ]


def _weighted(weights: dict[Any, float], rng: random.Random, size: int = 1000) -> list[Any]:
    """A lookup list drawn once, so each consultation picks with a single randrange."""
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys], k=size)


async def generate_history(
    sessionmaker: async_sessionmaker[Any],
    count: int,
    *,
    rng: random.Random,
    console: Console,
) -> None:
    """Add ``count`` past consultations (and their patients and rollups) in one transaction."""
    if count <= 0:
        return
    now = datetime.now(UTC).replace(microsecond=0)
    first = (now - timedelta(days=HISTORY_DAYS)).replace(hour=0, minute=0, second=0)
    specialties = _weighted(SPECIALTY_WEIGHTS, rng)
    urgencies = _weighted(dict(URGENCY_WEIGHTS), rng)
    patient_count = max(50, min(count // 4, 250_000))
    finest: dict[Key, _Tally] = {}
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    async with unit_of_work(sessionmaker) as session:
        staff = await _staff(session)
        taken = set(await session.scalars(select(Patient.iin)))
        with Progress(*columns, console=console, transient=True) as progress:
            task = progress.add_task("patients", total=patient_count)
            patients: list[tuple[uuid.UUID, uuid.UUID, str]] = []
            region_of = dict(staff.clinics)
            batch: list[dict[str, Any]] = []
            for row in _patients(patient_count, staff, rng, taken, now):
                patients.append((row["id"], row["facility_id"], region_of[row["facility_id"]]))
                batch.append(row)
                if len(batch) == BATCH:
                    await bulk_insert(session, "patients", batch)
                    progress.advance(task, len(batch))
                    batch = []
            await bulk_insert(session, "patients", batch)
            progress.advance(task, len(batch))

            task = progress.add_task("consultations", total=count)
            done = 0
            while done < count:
                size = min(BATCH, count - done)
                rows = [
                    _consultation(
                        rng,
                        staff,
                        patients[rng.randrange(len(patients))],
                        first,
                        now,
                        specialties,
                        urgencies,
                    )
                    for _ in range(size)
                ]
                for row in rows:
                    facts = Facts(
                        row["specialty"],
                        row["region"],
                        row["facility_id"],
                        row["mode"],
                        row["urgency"],
                        row["status"],
                        row["created_at"],
                        row["started_at"],
                        row["ended_at"],
                    )
                    key = finest_key(facts)
                    tally = finest.get(key)
                    if tally is None:
                        finest[key] = tally = _Tally()
                    tally.add_facts(facts)
                await bulk_insert(session, "consultations", rows)
                done += size
                progress.advance(task, size)
            # Month by month, so that only one month of rollup rows is in memory at a time.
            months: dict[date, dict[Key, _Tally]] = defaultdict(dict)
            for key, tally in finest.items():
                months[month_of(key[1])][key] = tally
            finest.clear()
            task = progress.add_task("statistics rollups", total=len(months))
            for month in sorted(months):
                await merge_rows(session, _rollup_rows(months.pop(month)))
                progress.advance(task)
    console.print(f"generated {count:,} consultations for {patient_count:,} new patients")
