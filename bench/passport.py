"""Passport benchmark: each measurement next to its baseline, in the same run.

1. Append latency with 5,000 existing entries vs with ~10 (goal ≤ 1.1×): the full write path
   (consent decision + audit + chained append + commit).
2. Reading a 5,000-entry passport (the caller authenticated by token as a request is, the
   decision, audit, amended view, response-ready JSON) vs a
   raw SELECT of the same rows and columns through the database driver, as the read fetches
   them (goal ≤ 1.5×). Also printed: against the same SELECT through SQLAlchemy.
3. ``verify`` throughput (fetch + re-walk, as ``teleconsult verify`` walks a database: chain
   after chain on one session, their lengths from one query, a long chain in pieces checked
   side by side, one thread per core), sustained over runs of a hundred verifies of four long
   chains in turn, vs hashlib SHA-256 over the same bytes already in memory, in one thread, in
   runs as long (goal >= 0.5x). Also printed: the same in short bursts of ten; one chain as a
   request checks it (a session of its own, the chain's length asked first), back to back
   and alone after an idle moment; and in one process.
4. Verifying a whole database of many short chains (2,000 passports of 10 entries): read
   500 chains at a time, as ``teleconsult verify`` does, vs a query per chain.

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
import inspect
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
from teleconsult.consent.decision import authorize
from teleconsult.consent.models import ConsentGrant
from teleconsult.consent.policy import Access
from teleconsult.consultations.models import Consultation
from teleconsult.db.engine import make_engine, make_sessionmaker, readers
from teleconsult.db.migrate import upgrade
from teleconsult.db.sqlite_driver import fetch_rows
from teleconsult.db.uow import unit_of_work
from teleconsult.facilities.models import Facility
from teleconsult.passport.chain import ChainReport, canonical, genesis, link, walk
from teleconsult.passport.ledger import PASSPORT, chain_lengths, stored_entries
from teleconsult.passport.pieces import Pieces
from teleconsult.passport.schemas import NoteIn
from teleconsult.passport.service import note_drafts, read_passport, write_entries
from teleconsult.passport.verification import BATCH, check_short_chains, verify_batch, verify_chain
from teleconsult.patients.iin import make_iin
from teleconsult.patients.models import Patient

sys.path.insert(0, str(Path(__file__).parent))

from _common import throwaway_database

_RAW = "SELECT seq, document, hash, amends FROM passport_entries WHERE patient_id = {} ORDER BY seq"
_RAW_SQLITE, _RAW_POSTGRES = _RAW.format("?"), _RAW.format("$1")

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

    async def decision(self, patient_id: uuid.UUID) -> None:
        """The consent decision and its audit entry alone, committed: a read makes them
        first, then commits them while it fetches."""
        async with unit_of_work(self.sessions) as s:
            await authorize(
                s,
                await self.user(s),
                patient_id,
                access=Access.read,
                needed=None,
                action="passport.read",
                now=self.now,
                client="bench",
            )

    async def raw_select(self, patient_id: uuid.UUID) -> int:
        """The same rows and columns a read serves, with nothing around them, through the
        database driver itself, as the read fetches them, on the same kind of connection: a
        reader (autocommit, no BEGIN or ROLLBACK), whose page cache is as cold as the read's
        (on SQLite every commit elsewhere empties it: in this loop the read's and the
        decision's audit entries)."""
        async with readers(self.engine).connect() as conn:
            raw: Any = await conn.get_raw_connection()
            if self.engine.dialect.name == "sqlite":
                rows = await fetch_rows(raw.dbapi_connection, _RAW_SQLITE, (patient_id.hex,))
            else:
                rows = await raw.driver_connection.fetch(_RAW_POSTGRES, patient_id)
        return len(rows)

    async def sqlalchemy_select(self, patient_id: uuid.UUID) -> int:
        """The same SELECT through SQLAlchemy (a Row per entry): the slower baseline."""
        async with readers(self.engine).connect() as conn:
            rows = (
                await conn.execute(
                    text(_RAW_SQLITE.replace("?", ":p")),
                    {"p": patient_id if self.engine.dialect.name != "sqlite" else patient_id.hex},
                )
            ).all()
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


# Verifies in one run of the throughput measurement: a run lasts some 0.4 s, as long as a
# whole-database verify needs to reach its steady pace (below: short bursts, and why).
SUSTAINED_RUNS = 100
# Verifies in one run of the other verify measurements, and in a short burst.
BURST_RUNS = 10
# Long chains that the throughput measurement walks in turn, as a database's (the big
# passport and copies of it).
LONG_CHAINS = 4


async def per_verify(run: Callable[[], Any], runs: int = BURST_RUNS) -> float:
    """Seconds per verify of ``run`` (sync or async), which does ``runs`` of them."""
    collected()
    start = time.perf_counter()
    result = run()
    if inspect.isawaitable(result):
        await result
    return (time.perf_counter() - start) / runs


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
    alchemy: list[float] = []
    decisions: list[float] = []
    for _ in range(max(5, rounds // 4)):
        reads.append(await timed(lambda: bench.read(big_patient)))
        raws.append(await timed(lambda: bench.raw_select(big_patient)))
        alchemy.append(await timed(lambda: bench.sqlalchemy_select(big_patient)))
        decisions.append(await timed(lambda: bench.decision(big_patient)))
    read_ratio = statistics.median(reads) / statistics.median(raws)
    alchemy_ratio = statistics.median(reads) / statistics.median(alchemy)
    decision = statistics.median(decisions)

    # 3. verify (fetch + walk) vs hashlib over exactly the bytes verify hashes
    copies = await bench.copies_of(big_patient, LONG_CHAINS - 1)
    await bench.analyzed()
    key = str(big_patient)
    keys = [key, *[str(k) for k in copies]]
    payloads = {k: await bench.stored_bytes(uuid.UUID(k)) for k in keys}
    size = statistics.mean(sum(len(p) for p in payloads[k]) for k in keys)

    pieces = Pieces(url)
    await pieces.start()
    verifying = make_sessionmaker(readers(bench.engine))

    # As `teleconsult verify` walks a database (verification.run_verify): chain after chain
    # on one reader session, every chain's length known from one query for all of them
    # (chain_lengths). A run pays for its session and that query.
    async def verify_run(runs: int) -> None:
        async with verifying() as s:
            lengths = await chain_lengths(s, PASSPORT)
            for i in range(runs):
                k = keys[i % len(keys)]
                check(k, await verify_chain(s, PASSPORT, k, None, pieces, lengths[k]))

    # As the API's GET …/passport/verify and `teleconsult verify --patient` check one chain:
    # a session of its own, the chain's length asked first.
    async def verify_one(pieces: Pieces | None = pieces) -> None:
        async with verifying() as s:
            check(key, await verify_chain(s, PASSPORT, key, None, pieces))

    def check(k: str, report: ChainReport) -> None:
        assert report.ok and report.entries == len(payloads[k])

    def hash_run() -> None:
        for i in range(SUSTAINED_RUNS):
            for payload in payloads[keys[i % len(keys)]]:
                hashlib.sha256(payload).hexdigest()

    # Where verify's time goes: the walk over rows already fetched (hashing and checks).
    async with bench.sessions() as s:
        rows = await stored_entries(s, PASSPORT, key)
        unbound = PASSPORT.binding(key, bench.engine.dialect.name == "sqlite")
        await s.rollback()

    def walk_run() -> None:
        for _ in range(BURST_RUNS):
            assert walk(PASSPORT.name, key, rows, None, unbound).ok

    async def request_run() -> None:
        for _ in range(BURST_RUNS):
            await verify_one()

    async def one_process_run() -> None:
        for _ in range(BURST_RUNS):
            await verify_one(None)

    await verify_one()  # once before timing: the first walk starts the threads and connects
    # Throughput: each side runs SUSTAINED_RUNS times back to back (some 0.4 s), and the
    # sides alternate. A whole-database verify runs for seconds to hours; its pace is the
    # steady one. Runs of ten, 50 ms, are printed too: a burst pays for waking two threads
    # and, on PostgreSQL, two server processes after the other side's run, and on the
    # virtual machines measured here the halted cores take tens of ms to come back to full
    # pace (hashlib, one thread already running, pays for none of it). One verify alone after
    # an idle moment is printed as well: what one patient's check costs.
    verifies, bursts, requests, singles, hashes, walks, lone = [], [], [], [], [], [], []
    for _ in range(max(15, rounds // 8)):
        verifies.append(await per_verify(lambda: verify_run(SUSTAINED_RUNS), SUSTAINED_RUNS))
        hashes.append(await per_verify(hash_run, SUSTAINED_RUNS))
        bursts.append(await per_verify(lambda: verify_run(BURST_RUNS)))
        requests.append(await per_verify(request_run))
        singles.append(await per_verify(one_process_run))
        walks.append(await per_verify(walk_run))
        lone.append(await timed(verify_one))
    pieces.close()
    verify_ratio = statistics.median(hashes) / statistics.median(verifies)
    burst_ratio = statistics.median(hashes) / statistics.median(bursts)
    walk_ratio = statistics.median(hashes) / statistics.median(walks)
    single_ratio = statistics.median(hashes) / statistics.median(singles)
    lone_ratio = statistics.median(hashes) / statistics.median(lone)
    request_ratio = statistics.median(hashes) / statistics.median(requests)
    mb = size / 1e6

    entries = len(payloads[key])
    print(
        f"passport entries: {entries} ({mb:.2f} MB hashed; verify walks {len(keys)} such"
        f" chains in turn); rounds: {rounds}"
    )
    print(
        f"append latency   at {entries}: {statistics.median(at_big) * 1e3:7.2f} ms"
        f"   at ~10: {statistics.median(at_small) * 1e3:7.2f} ms"
        f"   ratio {append_ratio:.2f}x (goal <= 1.1x)"
    )
    print(
        f"read passport    {statistics.median(reads) * 1e3:7.2f} ms"
        f"   raw SELECT: {statistics.median(raws) * 1e3:7.2f} ms"
        f"   ratio {read_ratio:.2f}x (goal <= 1.5x)"
    )
    print(
        f"  (raw SELECT through SQLAlchemy: {statistics.median(alchemy) * 1e3:.2f} ms,"
        f" ratio {alchemy_ratio:.2f}x)"
    )
    print(
        f"  (the audited consent decision alone, committed: {decision * 1e3:.2f} ms;"
        " a read commits it while it fetches)"
    )
    print(
        f"verify           {mb / statistics.median(verifies):7.1f} MB/s"
        f"   hashlib: {mb / statistics.median(hashes):7.1f} MB/s"
        f"   ratio {verify_ratio:.2f}x (goal >= 0.5x; {pieces.how}; runs of {SUSTAINED_RUNS})"
    )
    print(
        f"  (in short bursts, runs of {BURST_RUNS}: {mb / statistics.median(bursts):.1f} MB/s,"
        f" ratio {burst_ratio:.2f}x)"
    )
    print(
        f"  (one chain per request, back to back: {statistics.median(requests) * 1e3:.2f} ms,"
        f" {mb / statistics.median(requests):.1f} MB/s, ratio {request_ratio:.2f}x;"
        f" alone, after an idle moment: {statistics.median(lone) * 1e3:.2f} ms,"
        f" ratio {lone_ratio:.2f}x)"
    )
    print(
        f"  (in one process: {mb / statistics.median(singles):7.1f} MB/s,"
        f" ratio {single_ratio:.2f}x)"
    )
    print(
        f"  (walk only, rows in memory: {mb / statistics.median(walks):7.1f} MB/s,"
        f" ratio {walk_ratio:.2f}x)"
    )
    await many_short_chains(bench, url, max(3, rounds // 40))
    await bench.engine.dispose()


async def many_short_chains(
    bench: Bench, url: str, rounds: int, chains: int = 2000, each: int = 10
) -> None:
    """Whole-database verify: short chains read by the batch vs one query per chain, and
    (where built) each by the compiled check in threads."""
    t = PASSPORT.table
    keys = []
    rows = []
    for _ in range(chains):
        patient = uuid.uuid4()
        keys.append(str(patient))
        prev = genesis(PASSPORT.name, str(patient))
        for seq in range(1, each + 1):
            entry = uuid.uuid4()
            document = canonical(
                {"amends": None, "body": NOTE.model_dump(), "id": str(entry), "kind": "note"}
                | {"patient_id": str(patient), "seq": seq}
            )
            digest = link(prev, document)
            rows.append(
                {"id": entry, "patient_id": patient, "seq": seq, "kind": "note", "amends": None}
                | {"document": document, "prev_hash": prev, "hash": digest}
            )
            prev = digest
    async with bench.engine.begin() as conn:
        for start in range(0, len(rows), 5000):
            await conn.execute(insert(t), rows[start : start + 5000])

    async def batched() -> None:
        async with bench.sessions() as s:
            for start in range(0, len(keys), BATCH):
                reports = await verify_batch(s, PASSPORT, keys[start : start + BATCH], None)
                assert all(r.ok and r.entries == each for r in reports)
            await s.rollback()

    async def one_by_one() -> None:
        async with bench.sessions() as s:
            for key in keys:
                report = await verify_chain(s, PASSPORT, key, None)
                assert report.ok and report.entries == each
            await s.rollback()

    pieces = Pieces(url)

    async def compiled() -> None:
        reports, refused = await check_short_chains(pieces, PASSPORT, keys, None)
        assert not refused and all(r.ok and r.entries == each for r in reports)

    by_batch, by_chain, by_check = [], [], []
    for _ in range(rounds):
        by_batch.append(await timed(batched))
        by_chain.append(await timed(one_by_one))
        if pieces.compiled:
            by_check.append(await timed(compiled))
    pieces.close()
    size = chains * each
    print(
        f"whole database, {chains} passports of {each} entries:"
        f" by the batch {size / statistics.median(by_batch):8.0f} entries/s"
        f"   a query per chain {size / statistics.median(by_chain):8.0f} entries/s"
        f"   ratio {statistics.median(by_chain) / statistics.median(by_batch):.2f}x faster"
    )
    if by_check:
        print(
            f"  ({pieces.how}: {size / statistics.median(by_check):8.0f}"
            f" entries/s, {statistics.median(by_batch) / statistics.median(by_check):.2f}x"
            " the batch)"
        )


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
