"""``teleconsult`` command line: serve, migrate, create-admin, seed-demo, ..."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Callable, Coroutine
from typing import Any

from .config import Settings

Command = Callable[[argparse.Namespace, Settings], Coroutine[Any, Any, int]]
COMMANDS: dict[str, Command] = {}


def command(name: str) -> Callable[[Command], Command]:
    def register(fn: Command) -> Command:
        COMMANDS[name] = fn
        return fn

    return register


async def _migrate(settings: Settings) -> None:
    from .db.engine import engine_from_settings
    from .db.migrate import upgrade

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
    from sqlalchemy import select

    from .accounts.models import User
    from .accounts.passwords import Passwords
    from .accounts.schemas import UserCreate
    from .accounts.service import create_user
    from .codes import Role
    from .db.engine import engine_from_settings, make_sessionmaker
    from .db.uow import unit_of_work

    await _migrate(settings)
    engine = engine_from_settings(settings)
    try:
        async with unit_of_work(make_sessionmaker(engine)) as session:
            if await session.scalar(select(User.id).where(User.username == args.username)):
                print(f"a user named {args.username!r} already exists", file=sys.stderr)
                return 1
            data = UserCreate(
                username=args.username,
                password=args.password,
                full_name="Administrator",
                role=Role.admin,
            )
            await create_user(
                session, Passwords(settings.argon2_time_cost, settings.argon2_memory_kib), data
            )
    finally:
        await engine.dispose()
    print(f"created administrator {args.username!r}")
    return 0


@command("seed-demo")
async def seed_demo_cmd(args: argparse.Namespace, settings: Settings) -> int:
    from .seed import seed_demo

    await _migrate(settings)
    await seed_demo(settings, consultations=args.consultations)
    return 0


@command("call")
async def call_cmd(args: argparse.Namespace, settings: Settings) -> int:
    from .calls.client import CallClient, media_from_file

    if args.loopback_only or settings.call_loopback_only:
        from .calls.loopback import use_loopback_host_candidates

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


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from aiohttp import web

    from .app import create_app

    asyncio.run(_migrate(settings))
    host = args.host or settings.host
    port = args.port or settings.port
    web.run_app(create_app(settings), host=host, port=port, print=None)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="teleconsult", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the web server (migrates first)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    sub.add_parser("migrate", help="bring the database schema up to date")
    admin = sub.add_parser("create-admin", help="create an administrator account")
    admin.add_argument("--username", required=True)
    admin.add_argument("--password", required=True)
    seed = sub.add_parser("seed-demo", help="fill the database with demonstration data")
    seed.add_argument(
        "--consultations",
        type=int,
        default=0,
        help="also generate this many historical consultations",
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
    try:
        settings = Settings()
    except ValueError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    if args.command == "serve":
        return _serve(args, settings)
    return asyncio.run(COMMANDS[args.command](args, settings))
