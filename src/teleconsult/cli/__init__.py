"""``teleconsult`` command line: serve, migrate, create-admin, seed-demo, ..."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Callable, Coroutine
from typing import Any

from .. import logs
from ..config import Settings

Command = Callable[[argparse.Namespace, Settings], Coroutine[Any, Any, int]]
COMMANDS: dict[str, Command] = {}


def command(name: str) -> Callable[[Command], Command]:
    def register(fn: Command) -> Command:
        COMMANDS[name] = fn
        return fn

    return register


async def _migrate(settings: Settings) -> None:
    from ..db.engine import engine_from_settings
    from ..db.migrate import upgrade

    engine = engine_from_settings(settings)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


@command("migrate")
async def migrate_cmd(args: argparse.Namespace, settings: Settings) -> int:
    await _migrate(settings)
    print("database is at the newest schema")
    return 0


@command("create-admin")
async def create_admin_cmd(args: argparse.Namespace, settings: Settings) -> int:
    from pydantic import ValidationError
    from sqlalchemy import select

    from ..accounts.models import User
    from ..accounts.passwords import Passwords
    from ..accounts.schemas import UserCreate
    from ..accounts.service import create_user
    from ..codes import Role
    from ..db.engine import engine_from_settings, make_sessionmaker
    from ..db.uow import unit_of_work

    try:
        data = UserCreate(
            username=args.username,
            password=args.password,
            full_name="Administrator",
            role=Role.admin,
        )
    except ValidationError as exc:
        for error in exc.errors():
            where = ".".join(str(part) for part in error["loc"])
            print(f"--{where}: {error['msg']}", file=sys.stderr)
        return 2
    await _migrate(settings)
    engine = engine_from_settings(settings)
    try:
        async with unit_of_work(make_sessionmaker(engine)) as session:
            if await session.scalar(select(User.id).where(User.username == args.username)):
                print(f"a user named {args.username!r} already exists", file=sys.stderr)
                return 1
            await create_user(
                session, Passwords(settings.argon2_time_cost, settings.argon2_memory_kib), data
            )
    finally:
        await engine.dispose()
    print(f"created administrator {args.username!r}")
    return 0


@command("seed-demo")
async def seed_demo_cmd(args: argparse.Namespace, settings: Settings) -> int:
    from ..seed.demo import seed_demo

    await _migrate(settings)
    await seed_demo(settings, consultations=args.consultations)
    return 0


@command("stats")
async def stats_cmd(args: argparse.Namespace, settings: Settings) -> int:
    from rich.console import Console

    from .stats import print_stats

    await _migrate(settings)
    return await print_stats(args, settings, Console())


@command("checkpoint")
async def checkpoint_cmd(args: argparse.Namespace, settings: Settings) -> int:
    from ..db.engine import engine_from_settings, make_sessionmaker
    from ..ledger.pieces import pieces_for
    from ..ledger.verify import describe, run_checkpoint

    await _migrate(settings)
    engine = engine_from_settings(settings)
    try:
        async with pieces_for(settings.effective_database_url) as pieces:
            ok, reports, path = await run_checkpoint(make_sessionmaker(engine), settings, pieces)
    finally:
        await engine.dispose()
    if not ok:
        for report in reports:
            if not report.ok:
                print(describe(report), file=sys.stderr)
        print("no checkpoint written: a chain does not verify", file=sys.stderr)
        return 1
    print(f"checkpoint of {len(reports)} chains written to {path}")
    return 0


@command("verify")
async def verify_cmd(args: argparse.Namespace, settings: Settings) -> int:
    import uuid

    from ..db.engine import engine_from_settings, make_sessionmaker
    from ..ledger.pieces import pieces_for
    from ..ledger.verify import describe, run_verify

    patient = uuid.UUID(args.patient) if args.patient else None
    await _migrate(settings)
    engine = engine_from_settings(settings)
    try:
        # Long chains are walked in pieces, one worker process per core.
        async with pieces_for(settings.effective_database_url) as pieces:
            ok, reports = await run_verify(make_sessionmaker(engine), settings, patient, pieces)
    finally:
        await engine.dispose()
    for report in reports:
        if not report.ok or args.verbose:
            print(describe(report), file=sys.stdout if report.ok else sys.stderr)
    entries = sum(r.entries for r in reports)
    print(f"{'ok' if ok else 'FAILED'}: {len(reports)} chains, {entries} entries")
    return 0 if ok else 1


@command("backup")
async def backup_cmd(args: argparse.Namespace, settings: Settings) -> int:
    from pathlib import Path

    from ..db.backup import BackupError, backup

    try:
        made = await backup(settings, Path(args.output) if args.output else None)
    except BackupError as exc:
        print(f"no backup made: {exc}", file=sys.stderr)
        return 1
    print(f"backup written to {made.path} ({made.size:,} bytes)")
    return 0


@command("restore")
async def restore_cmd(args: argparse.Namespace, settings: Settings) -> int:
    from pathlib import Path

    from ..db.backup import BackupError, RestoreRefused, restore
    from ..db.engine import engine_from_settings, make_sessionmaker, readers
    from ..ledger.checkpoint import CheckpointInvalid, load_latest
    from ..ledger.verify import check_restored, describe, verify_chains

    try:
        kept = await restore(settings, Path(args.backup), check=check_restored, force=args.force)
    except RestoreRefused as exc:
        print(f"restore refused, the database is unchanged: {exc}", file=sys.stderr)
        return 1
    except BackupError as exc:
        print(f"nothing restored: {exc}", file=sys.stderr)
        return 1
    print(f"restored {args.backup}")
    if kept.size:
        print(f"the database it replaced is kept in {kept.path}")
    await _migrate(settings)  # a backup from an older version is brought up to date
    engine = engine_from_settings(settings)
    try:
        async with make_sessionmaker(readers(engine))() as session:
            reports = await verify_chains(session, None)
    finally:
        await engine.dispose()
    try:
        checkpoint = load_latest(settings.data_dir, settings.secret_key)
    except CheckpointInvalid:
        checkpoint = None
    # Chains the newest checkpoint saw longer than the restored database has them (the one
    # walk above gave every chain's length; no second walk against the checkpoint).
    lengths = {(r.ledger, r.key): r.entries for r in reports}
    behind = [
        key
        for ledger, heads in (checkpoint.heads.items() if checkpoint is not None else ())
        for key, head in heads.items()
        if head.seq > lengths.get((ledger, key), 0)
    ]
    broken = [r for r in reports if not r.ok]
    for report in broken:
        print(describe(report), file=sys.stderr)
    entries = sum(r.entries for r in reports)
    print(f"{'FAILED' if broken else 'ok'}: {len(reports)} chains, {entries} entries")
    if behind and not broken:
        print(
            f"{len(behind)} chains end before the newest checkpoint"
            f" ({checkpoint.created_at if checkpoint is not None else ''})"
            " recorded: this backup is older than it. `teleconsult verify` reports them as cut"
            " off until `teleconsult checkpoint` records the restored state."
        )
    return 1 if broken else 0


def _patient_id(value: str) -> str:
    import uuid

    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise argparse.ArgumentTypeError("not a patient id") from None


@command("call")
async def call_cmd(args: argparse.Namespace, settings: Settings) -> int:
    from ..calls.client import CallClient, media_from_file

    if args.loopback_only or settings.call_loopback_only:
        from ..calls.loopback import use_loopback_host_candidates

        use_loopback_host_candidates()
    video = audio = None
    if args.play:
        video, audio = media_from_file(args.play)

    def show(text: str) -> None:
        print(text, flush=True)

    client = CallClient(
        args.server,
        args.consultation_id,
        username=args.username,
        password=args.password,
        video=video,
        audio=audio,
        record=args.record,
        on_event=show,
    )
    try:
        await client.join()
        deadline = asyncio.get_running_loop().time() + args.duration if args.duration else None
        while deadline is None or asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(1)
            show(f"received video={client.frames['video']} audio={client.frames['audio']}")
    except RuntimeError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    finally:
        await client.leave()
    return 0


def _run_server(settings: Settings, host: str, port: int, reuse_port: bool) -> None:
    from ..db.backup import serving
    from ..logs import configure

    configure()
    # Held while serving: `teleconsult restore` refuses to replace the database under it.
    with serving(settings.data_dir):
        _serve_forever(settings, host, port, reuse_port)


def _serve_forever(settings: Settings, host: str, port: int, reuse_port: bool) -> None:
    from aiohttp import web

    from ..app import create_app
    from ..eventloop import new_event_loop
    from ..logs import AccessLogger
    from .statements import count_statements, wanted

    app = create_app(settings)
    if wanted():
        count_statements(app)
    web.run_app(
        app,
        host=host,
        port=port,
        print=None,
        reuse_port=reuse_port or None,
        access_log=logging.getLogger("aiohttp.access") if settings.access_log else None,
        access_log_class=AccessLogger,
        loop=new_event_loop(settings.event_loop),
    )


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    """Migrate, then serve; with ``--workers N`` N processes share the port (SO_REUSEPORT).

    The in-process bus cannot cross processes, so several workers need Redis.
    """
    import multiprocessing

    asyncio.run(_migrate(settings))
    host = args.host or settings.host
    port = args.port or settings.port
    workers = max(1, args.workers)
    if workers > 1 and not settings.redis_url:
        print(
            "--workers above 1 needs TELECONSULT_REDIS_URL (events cross processes)",
            file=sys.stderr,
        )
        return 2
    spawn = multiprocessing.get_context("spawn")
    children = [
        spawn.Process(target=_run_server, args=(settings, host, port, True), daemon=True)
        for _ in range(workers - 1)
    ]
    for child in children:
        child.start()
    try:
        _run_server(settings, host, port, workers > 1)
    finally:
        for child in children:
            child.terminate()
            child.join(timeout=10)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="teleconsult", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the web server (migrates first)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int, default=1, help="server processes (needs Redis)")
    sub.add_parser("migrate", help="bring the database schema up to date")
    admin = sub.add_parser("create-admin", help="create an administrator account")
    admin.add_argument("--username", required=True)
    admin.add_argument("--password", required=True)
    seed = sub.add_parser("seed-demo", help="fill the database with demonstration data")
    seed.add_argument(
        "--consultations",
        type=int,
        default=None,
        help="also generate this many historical consultations (first run: 3,000)",
    )
    from .stats import add_arguments as stats_arguments

    stats_arguments(sub.add_parser("stats", help="consultation statistics by specialty"))
    sub.add_parser("checkpoint", help="record every chain head in a signed checkpoint file")
    verify = sub.add_parser("verify", help="re-walk the passport and audit chains")
    verify.add_argument("--patient", type=_patient_id, help="only this patient's chains")
    verify.add_argument("--verbose", action="store_true", help="list every chain")
    backup = sub.add_parser("backup", help="copy the whole database to a backup file")
    backup.add_argument("--output", help="the file to write (default: under DATA_DIR/backups)")
    restore = sub.add_parser(
        "restore", help="replace the database with a backup (stop the server first)"
    )
    restore.add_argument("backup", help="a file written by `teleconsult backup`")
    restore.add_argument(
        "--force",
        action="store_true",
        help="on PostgreSQL, restore even while other sessions are connected",
    )
    call = sub.add_parser("call", help="join a video call with aiortc")
    call.add_argument("--server", required=True, help="e.g. http://127.0.0.1:8080")
    call.add_argument("--username", required=True)
    call.add_argument("--password", required=True)
    call.add_argument("consultation_id")
    source = call.add_mutually_exclusive_group()
    source.add_argument("--play", metavar="FILE", help="send this media file (looped)")
    source.add_argument(
        "--test-pattern", action="store_true", help="send a generated pattern (the default)"
    )
    call.add_argument("--record", metavar="FILE", help="record what the other side sends")
    call.add_argument("--duration", type=float, help="leave after this many seconds")
    call.add_argument(
        "--loopback-only", action="store_true", help="offer only 127.0.0.1 ICE candidates"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logs.quiet_libraries()
    try:
        settings = Settings()
    except ValueError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    if args.command == "serve":
        return _serve(args, settings)
    return asyncio.run(COMMANDS[args.command](args, settings))
