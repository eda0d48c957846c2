"""Passport benchmark: each measurement next to its baseline, in the same run.

1. Append latency with 5,000 existing entries vs with ~10 (bar <= 1.1x): the full write path
   (consent decision + audit + chained append + commit).
2. Reading a 5,000-entry passport (the caller authenticated by token as a request is, the
   decision and its audit entry, the amended view, the response body) vs a raw SELECT of the
   same rows on the same kind of connection (bar <= 2x).
3. ``verify`` throughput as ``teleconsult verify`` walks a database (chain after chain on one
   reader session, long chains in pieces over worker processes, pure Python) vs hashlib
   SHA-256 over the same bytes already in memory, in one thread (bar >= 0.2x).

Usage: ``python bench/passport.py [--postgres | --database-url URL] [--entries 5000]
[--rounds 200]``. By default it runs on a fresh SQLite file in a temporary folder;
``--postgres`` creates and drops a database on the local PostgreSQL
(``TELECONSULT_BENCH_DATABASE_URL``).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import hashlib
import json
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, text

from teleconsult.accounts.auth import new_token, token_hash, user_for_token
from teleconsult.accounts.models import AuthToken, User
from teleconsult.accounts.passwords import Passwords
from teleconsult.accounts.schemas import UserCreate
from teleconsult.accounts.service import create_user
from teleconsult.codes import Role
from teleconsult.consent.models import ConsentGrant
from teleconsult.consultations.models import Consultation
from teleconsult.db.engine import make_engine, make_sessionmaker, readers
from teleconsult.db.migrate import upgrade
from teleconsult.db.uow import unit_of_work
from teleconsult.facilities.models import Facility
from teleconsult.ledger.chain import canonical, genesis, link
from teleconsult.ledger.pieces import Pieces
from teleconsult.ledger.store import chain_lengths
from teleconsult.ledger.tables import PASSPORT
from teleconsult.ledger.verify import verify_chain
from teleconsult.passport.drafts import note_drafts
from teleconsult.passport.schemas import NoteIn
from teleconsult.passport.service import read_passport, write_entries
from teleconsult.patients.iin import make_iin
from teleconsult.patients.models import Patient

sys.path.insert(0, str(Path(__file__).parent))

from _common import throwaway_database

_RAW = text(
    "SELECT seq, document, hash, amends FROM passport_entries WHERE patient_id = :p ORDER BY seq"
)

NOTE = NoteIn(text="Blood pressure 150/95 mmHg; advised salt restriction and review in 4 weeks.")


class Bench:
    def __init__(self, url: str) -> None:
        self.engine = make_engine(url, pool_size=5)
        self.sessions = make_sessionmaker(self.engine)
        self.now = datetime.now(UTC)
        self.serial = 0

    async def setup(self) -> None:
        await upgrade(self.engine)
        async with unit_of_work(self.sessions) as s:
            hospital = Facility(name="Regional hospital", region="karaganda", level="secondary")
            s.add(hospital)
            await s.flush()
            self.specialist = await create_user(
                s,
                Passwords(1, 1024),
                UserCreate(
                    username=f"bench-{uuid.uuid4().hex[:8]}",
                    password="bench password",
                    full_name="Bench Specialist",
                    role=Role.specialist,
                    facility_id=hospital.id,
                    specialties=["cardiology"],
                ),
            )
            self.facility_id = hospital.id
            # A session token, for the specialist to be authenticated as every request is.
            self.token = new_token()
            s.add(
                AuthToken(
                    token_hash=token_hash(self.token),
                    user_id=self.specialist.id,
                    expires_at=self.now + timedelta(days=1),
                )
            )

    async def patient_with_consultation(self) -> tuple[uuid.UUID, uuid.UUID]:
        """A patient, an in-progress consultation with the specialist, and a grant."""
        async with unit_of_work(self.sessions) as s:
            iin = None
            while iin is None:
                self.serial += 1
                iin = make_iin(date(1970, 1, 1) + timedelta(days=self.serial), "male", self.serial)
            patient = Patient(
                iin=iin,
                full_name="Bench Patient",
                birth_date=date(1970, 1, 1) + timedelta(days=self.serial),
                sex="male",
                facility_id=self.facility_id,
            )
            s.add(patient)
            await s.flush()
            consultation = Consultation(
                patient_id=patient.id,
                requester_id=self.specialist.id,
                specialist_id=self.specialist.id,
                specialty="cardiology",
                mode="async",
                urgency="routine",
                urgency_rank=2,
                status="in_progress",
                reason="bench",
                sort_at=self.now,
                created_at=self.now,
                started_at=self.now,
            )
            s.add(consultation)
            s.add(
                ConsentGrant(
                    patient_id=patient.id,
                    grantee_user_id=self.specialist.id,
                    access="read_write",
                    expires_at=self.now + timedelta(days=300),
                    created_at=self.now,
                    granted_by=self.specialist.id,
                    source="portal",
                )
            )
            await s.flush()
            return patient.id, consultation.id

    async def copies_of(self, patient_id: uuid.UUID, count: int) -> list[uuid.UUID]:
        """``count`` more chains as long as the patient's, each a copy of its documents under
        new ids, chained anew and written in bulk (the write path is measured above)."""
        t = PASSPORT.table
        async with self.engine.connect() as conn:
            documents = (
                await conn.execute(
                    select(t.c.document).where(t.c.patient_id == patient_id).order_by(t.c.seq)
                )
            ).scalars()
            originals = [json.loads(d) for d in documents]
        made = []
        for _ in range(count):
            patient = uuid.uuid4()
            prev = genesis(PASSPORT.name, str(patient))
            rows = []
            for doc in originals:
                entry = uuid.uuid4()
                document = canonical(doc | {"id": str(entry), "patient_id": str(patient)})
                digest = link(prev, document)
                rows.append(
                    {"id": entry, "patient_id": patient, "seq": doc["seq"], "kind": doc["kind"]}
                    | {"amends": None, "document": document, "prev_hash": prev, "hash": digest}
                )
                prev = digest
            async with self.engine.begin() as conn:
                await conn.execute(insert(t), rows)
            made.append(patient)
        return made

    async def analyzed(self) -> None:
        """Fresh planner statistics before measuring, as autovacuum keeps them in service.
        Left to autovacuum, they would change in the middle of a run (it analyses a table
        within a minute of its first thousands of rows), and with them the plans of the
        reads measured: half the rounds with one plan, half with another."""
        if self.engine.dialect.name == "postgresql":
            async with self.engine.connect() as conn:
                await conn.execution_options(isolation_level="AUTOCOMMIT")
                await conn.execute(text("ANALYZE"))

    async def user(self, s: Any) -> User:
        """The specialist, authenticated by token as every request is (accounts.auth)."""
        found = await user_for_token(s, self.token, self.now)
        assert found is not None
        return found

    async def append(self, consultation_id: uuid.UUID, times: int = 1) -> None:
        async with unit_of_work(self.sessions) as s:
            user = await self.user(s)
            for _ in range(times):
                await write_entries(
                    s, user, consultation_id, note_drafts(NOTE), now=self.now, client="bench"
                )

    async def read(self, patient_id: uuid.UUID) -> int:
        """The whole passport as the response body the route sends, once its audit entry is
        committed (read_passport commits it while fetching the entries)."""
        async with unit_of_work(self.sessions) as s:
            page = await read_passport(
                s, await self.user(s), patient_id, now=self.now, client="bench"
            )
        assert page.body.startswith(b'{"items":[{')
        return page.count

    async def raw_select(self, patient_id: uuid.UUID) -> int:
        """The same rows and columns a read serves, with nothing around them, on the same kind
        of connection (a reader: autocommit, read-only)."""
        p = patient_id.hex if self.engine.dialect.name == "sqlite" else patient_id
        async with readers(self.engine).connect() as conn:
            rows = (await conn.execute(_RAW, {"p": p})).all()
        return len(rows)

    async def stored_bytes(self, patient_id: uuid.UUID) -> list[bytes]:
        """Exactly the bytes each entry's hash covers: previous hash, then the document."""
        t = PASSPORT.table
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(t.c.prev_hash, t.c.document)
                .where(t.c.patient_id == patient_id)
                .order_by(t.c.seq)
            )
            return [prev.encode("ascii") + document.encode("utf-8") for prev, document in rows]


async def timed(fn: Callable[[], Awaitable[Any]]) -> float:
    collected()
    start = time.perf_counter()
    await fn()
    return time.perf_counter() - start


# Verifies in one run of the throughput measurement, and long chains it walks in turn (the
# big passport and copies of it), as a whole database's verify walks chain after chain.
RUNS = 20
LONG_CHAINS = 4


def collected() -> None:
    """Collect the garbage of what ran before, so that a measurement does not pay for the
    previous one's (a full collection costs several ms here; timeit turns it off)."""
    gc.collect()


async def main(url: str, entries: int, rounds: int) -> None:
    bench = Bench(url)
    await bench.setup()
    print(f"database: {bench.engine.dialect.name}; building a {entries}-entry passport ...")
    big_patient, big_consultation = await bench.patient_with_consultation()
    done = 0
    while done < entries:
        batch = min(500, entries - done)
        await bench.append(big_consultation, batch)
        done += batch
    small = [await bench.patient_with_consultation() for _ in range(max(1, rounds // 10))]
    for _, consultation in small:
        await bench.append(consultation, 10)
    await bench.analyzed()

    # 1. append latency, interleaved so that drift hits both sides alike
    at_small: list[float] = []
    at_big: list[float] = []
    for i in range(rounds):
        at_small.append(await timed(lambda i=i: bench.append(small[i % len(small)][1])))
        at_big.append(await timed(lambda: bench.append(big_consultation)))
    append_ratio = statistics.median(at_big) / statistics.median(at_small)

    # 2. reading the whole passport vs a raw SELECT of the same rows
    reads: list[float] = []
    raws: list[float] = []
    for _ in range(max(5, rounds // 4)):
        reads.append(await timed(lambda: bench.read(big_patient)))
        raws.append(await timed(lambda: bench.raw_select(big_patient)))
    read_ratio = statistics.median(reads) / statistics.median(raws)

    # 3. verify (fetch + walk, in pieces over worker processes) vs hashlib over the same bytes
    copies = await bench.copies_of(big_patient, LONG_CHAINS - 1)
    await bench.analyzed()
    keys = [str(big_patient), *[str(k) for k in copies]]
    payloads = {k: await bench.stored_bytes(uuid.UUID(k)) for k in keys}
    size = statistics.mean(sum(len(p) for p in payloads[k]) for k in keys)
    pieces = Pieces(url)
    await pieces.start()
    verifying = make_sessionmaker(readers(bench.engine))

    async def verify_run() -> None:
        # As verify.run_verify: one reader session, every chain's length from one query.
        async with verifying() as s:
            lengths = await chain_lengths(s, PASSPORT)
            for i in range(RUNS):
                k = keys[i % len(keys)]
                report = await verify_chain(s, PASSPORT, k, None, pieces, lengths[k])
                assert report.ok and report.entries == len(payloads[k])

    def hash_run() -> None:
        for i in range(RUNS):
            for payload in payloads[keys[i % len(keys)]]:
                hashlib.sha256(payload).hexdigest()

    await verify_run()  # once before timing: the workers start and connect
    verifies: list[float] = []
    hashes: list[float] = []
    for _ in range(max(5, rounds // 20)):
        verifies.append(await timed(verify_run) / RUNS)
        hashes.append(await timed(lambda: asyncio.to_thread(hash_run)) / RUNS)
    pieces.close()
    verify_ratio = statistics.median(hashes) / statistics.median(verifies)
    mb = size / 1e6

    entries = len(payloads[keys[0]])
    print(f"passport entries: {entries} ({mb:.2f} MB hashed per chain); rounds: {rounds}")
    print(
        f"append latency   at {entries}: {statistics.median(at_big) * 1e3:7.2f} ms"
        f"   at ~10: {statistics.median(at_small) * 1e3:7.2f} ms"
        f"   ratio {append_ratio:.2f}x (bar <= 1.1x)"
    )
    print(
        f"read passport    {statistics.median(reads) * 1e3:7.2f} ms"
        f"   raw SELECT: {statistics.median(raws) * 1e3:7.2f} ms"
        f"   ratio {read_ratio:.2f}x (bar <= 2x)"
    )
    print(
        f"verify           {mb / statistics.median(verifies):7.1f} MB/s"
        f"   hashlib: {mb / statistics.median(hashes):7.1f} MB/s"
        f"   ratio {verify_ratio:.2f}x (bar >= 0.2x; {pieces.how})"
    )
    await bench.engine.dispose()


async def on_postgres(entries: int, rounds: int) -> None:
    async with throwaway_database("tc_bench_passport") as url:
        await main(url, entries, rounds)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--database-url", help="an existing, migrated database")
    where.add_argument("--postgres", action="store_true", help="a throwaway PostgreSQL database")
    parser.add_argument("--entries", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    if args.postgres:
        asyncio.run(on_postgres(args.entries, args.rounds))
    else:
        with tempfile.TemporaryDirectory() as folder:
            url = args.database_url or f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
            asyncio.run(main(url, args.entries, args.rounds))
