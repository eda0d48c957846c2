"""Demonstration data: facilities, staff, patients with valid IINs and two weeks of slots."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta, timezone

from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..accounts.models import User
from ..accounts.passwords import Passwords
from ..accounts.schemas import UserCreate
from ..accounts.service import create_user
from ..codes import CareLevel, Role
from ..config import Settings
from ..db.engine import engine_from_settings, make_sessionmaker
from ..db.uow import unit_of_work
from ..facilities.models import Facility
from ..patients.iin import make_iin
from ..patients.models import Patient
from ..scheduling.schemas import AvailabilityCreate
from ..scheduling.service import publish_availability

DEMO_PASSWORD = "teleconsult-demo"
ALMATY_TIME = timezone(timedelta(hours=5))

FACILITIES = [
    ("National Research Cardiac Surgery Centre", "astana", CareLevel.tertiary),
    ("Karaganda Regional Clinical Hospital", "karaganda", CareLevel.secondary),
    ("Shymkent City Multi-profile Hospital", "shymkent", CareLevel.secondary),
    ("Pavlodar Regional Hospital", "pavlodar", CareLevel.secondary),
    ("Kyzylorda Regional Hospital", "kyzylorda", CareLevel.secondary),
    ("Aksu District Rural Clinic", "pavlodar", CareLevel.primary),
    ("Zhanakorgan Rural Outpatient Clinic", "kyzylorda", CareLevel.primary),
    ("Shemonaikha Village Health Post", "east_kazakhstan", CareLevel.primary),
    ("Saryagash District Clinic", "turkistan", CareLevel.primary),
]

SPECIALISTS = [
    ("cardio1", "Aigerim Sadykova", ["cardiology"], 0),
    ("cardio2", "Nurlan Abenov", ["cardiology"], 1),
    ("cardio3", "Dana Tulegenova", ["cardiology", "rheumatology"], 2),
    ("pulmo1", "Yerlan Mukhametov", ["pulmonology"], 1),
    ("pulmo2", "Saule Kassymova", ["pulmonology", "infectious_diseases"], 3),
    ("neuro1", "Timur Zhakupov", ["neurology"], 0),
    ("neuro2", "Gulnara Iskakova", ["neurology"], 4),
    ("endo1", "Asel Baimukhanova", ["endocrinology"], 2),
    ("pedi1", "Marat Seitkali", ["pediatrics"], 3),
    ("onco1", "Zhanna Omarova", ["oncology"], 0),
    ("nephro1", "Bauyrzhan Nurpeisov", ["nephrology"], 1),
    ("gastro1", "Madina Yesenova", ["gastroenterology"], 4),
    ("psych1", "Ruslan Kairatov", ["psychiatry"], 2),
    ("derm1", "Aliya Zhumabayeva", ["dermatology"], 3),
]

GPS = [
    ("gp.aksu", "Samat Ospanov", 5),
    ("gp.zhanakorgan", "Ainur Bekova", 6),
    ("gp.shemonaikha", "Olga Petrenko", 7),
    ("gp.saryagash", "Daulet Nurmagambetov", 8),
]

GIVEN_MALE = ["Arman", "Yerbol", "Daniyar", "Askar", "Berik", "Kanat", "Nursultan", "Ilyas"]
GIVEN_FEMALE = ["Aizhan", "Dinara", "Kamila", "Laura", "Meruert", "Symbat", "Togzhan", "Zarina"]
SURNAMES = [
    "Akhmetov",
    "Bekov",
    "Dzhaksybekov",
    "Yessimov",
    "Karimov",
    "Omarov",
    "Sultanov",
    "Tokayev",
    "Utepov",
    "Zhunusov",
    "Kuanyshev",
    "Serikov",
]


def demo_patients(count: int, rng: random.Random) -> list[tuple[str, str, date, str]]:
    people: list[tuple[str, str, date, str]] = []
    serial = 100
    while len(people) < count:
        sex = rng.choice(["male", "female"])
        born = date(rng.randint(1940, 2020), rng.randint(1, 12), rng.randint(1, 28))
        serial += 1
        iin = make_iin(born, sex, serial)
        if iin is None:
            continue
        given = rng.choice(GIVEN_MALE if sex == "male" else GIVEN_FEMALE)
        surname = rng.choice(SURNAMES) + ("a" if sex == "female" else "")
        people.append((iin, f"{given} {surname}", born, sex))
    return people


def _windows(now: datetime, days: int) -> list[tuple[datetime, datetime]]:
    """Weekday clinic hours in Almaty time (09-12, 14-17) for ``days`` days, and a window now."""
    local_now = now.astimezone(ALMATY_TIME)
    windows = []
    # A window starting at the next 20-minute boundary, so a call can be tried straight away.
    start = (now + timedelta(minutes=20 - now.minute % 20)).replace(second=0, microsecond=0)
    windows.append((start, start + timedelta(hours=3)))
    for offset in range(1, days + 1):
        day = (local_now + timedelta(days=offset)).date()
        if day.weekday() >= 5:
            continue
        for first, last in ((9, 12), (14, 17)):
            windows.append(
                (
                    datetime(day.year, day.month, day.day, first, tzinfo=ALMATY_TIME),
                    datetime(day.year, day.month, day.day, last, tzinfo=ALMATY_TIME),
                )
            )
    # Drop clinic hours that overlap the immediate window.
    head = windows[0]
    return [head] + [w for w in windows[1:] if w[0] >= head[1] or w[1] <= head[0]]


# A first seeding also writes a modest national history so the statistics page shows data.
FIRST_RUN_HISTORY = 3000


async def seed_demo(settings: Settings, *, consultations: int | None = None, seed: int = 7) -> None:
    """Create the demo data once (later runs only print the logins).

    ``consultations`` adds that many historical consultations; left unset, a first seeding
    adds :data:`FIRST_RUN_HISTORY` and later ones add none.
    """
    console = Console()
    engine = engine_from_settings(settings)
    sessionmaker = make_sessionmaker(engine)
    passwords = Passwords(settings.argon2_time_cost, settings.argon2_memory_kib)
    rng = random.Random(seed)
    try:
        async with unit_of_work(sessionmaker) as session:
            already = await session.scalar(select(User.id).where(User.username == "admin"))
        if already is None:
            async with unit_of_work(sessionmaker) as session:
                await _seed(session, passwords, rng, console)
            if consultations is None:
                consultations = FIRST_RUN_HISTORY
        if consultations:
            from .history import generate_history

            await generate_history(sessionmaker, consultations, rng=rng, console=console)
    finally:
        await engine.dispose()
    _print_logins(console)


async def _seed(
    session: AsyncSession, passwords: Passwords, rng: random.Random, console: Console
) -> None:
    facilities = [Facility(name=n, region=r, level=lv.value) for n, r, lv in FACILITIES]
    session.add_all(facilities)
    await session.flush()
    regional = [f for f in facilities if f.level != CareLevel.primary.value]
    now = datetime.now(UTC)
    windows = _windows(now, 14)
    people = demo_patients(50, rng)
    total = 1 + len(SPECIALISTS) + len(GPS) + len(people) + len(SPECIALISTS) * len(windows)
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("seeding demo data", total=total)

        async def user(**kw: object) -> User:
            created = await create_user(
                session, passwords, UserCreate(password=DEMO_PASSWORD, **kw)
            )
            progress.advance(task)
            return created

        admin = await user(username="admin", full_name="Demo Administrator", role=Role.admin)
        specialists = []
        for username, name, specialties, fac in SPECIALISTS:
            specialists.append(
                await user(
                    username=username,
                    full_name=name,
                    role=Role.specialist,
                    facility_id=regional[fac].id,
                    specialties=specialties,
                    on_call=fac == 0,
                )
            )
        for username, name, fac in GPS:
            await user(
                username=username, full_name=name, role=Role.gp, facility_id=facilities[fac].id
            )
        rural = [f for f in facilities if f.level == CareLevel.primary.value]
        patients = []
        for i, (iin, name, born, sex) in enumerate(people):
            patient = Patient(
                iin=iin,
                full_name=name,
                birth_date=born,
                sex=sex,
                phone=f"+7701{rng.randint(1000000, 9999999)}",
                facility_id=rural[i % len(rural)].id,
                registered_by=admin.id,
            )
            session.add(patient)
            patients.append(patient)
            progress.advance(task)
        await session.flush()
        await user(
            username="patient1",
            full_name=patients[0].full_name,
            role=Role.patient,
            patient_id=patients[0].id,
        )
        for specialist in specialists:
            for start, end in windows:
                await publish_availability(
                    session,
                    admin,
                    specialist.id,
                    AvailabilityCreate(starts_at=start, ends_at=end),
                    now=now,
                    default_slot_minutes=20,
                )
                progress.advance(task)


def _print_logins(console: Console) -> None:
    table = Table(title=f"Demo logins (password for all: {DEMO_PASSWORD})")
    table.add_column("role")
    table.add_column("usernames")
    table.add_row("admin", "admin")
    table.add_row("gp", ", ".join(u for u, _, _ in GPS))
    table.add_row("specialist", ", ".join(u for u, *_ in SPECIALISTS))
    table.add_row("patient", "patient1")
    console.print(table)
