"""Uploads (tus subset), attaching files to consultations, and reading files."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

from aiohttp import web

from ..api import PREFIX, Ctx, Endpoint, Router, make_handler
from ..appkeys import REQUEST_CALL_ONLY
from ..codes import Role
from ..errors import BadRequest, UnsupportedMediaType
from ..middleware import error_response
from . import service, uploads
from .schemas import AttachIn, FileOut, UploadOut

router = Router("files")

UPLOADERS = [Role.gp, Role.specialist]
TUS = {"Tus-Resumable": "1.0.0"}
# Each PATCH carries at most this much (the app's request size limit is 2 MiB).
MAX_CHUNK = 1024 * 1024


def _int_header(ctx: Ctx, name: str) -> int:
    value = ctx.request.headers.get(name, "")
    if not value.isdigit():
        raise BadRequest(f"{name} must be a non-negative integer.", code="upload_header")
    return int(value)


def _metadata(header: str) -> dict[str, str]:
    """tus Upload-Metadata: comma-separated ``key base64value`` pairs."""
    found: dict[str, str] = {}
    for pair in header.split(","):
        parts = pair.strip().split(" ", 1)
        if not parts[0]:
            continue
        try:
            found[parts[0]] = (
                base64.b64decode(parts[1], validate=True).decode() if len(parts) > 1 else ""
            )
        except (binascii.Error, UnicodeDecodeError):
            raise BadRequest("Upload-Metadata is not valid.", code="upload_header") from None
    return found


def _upload_headers(upload: Any) -> dict[str, str]:
    return {
        **TUS,
        "Upload-Offset": str(upload.received),
        "Upload-Length": str(upload.length),
        "Cache-Control": "no-store",
    }


@router.post(
    "/uploads",
    summary="Start a resumable upload (tus: Upload-Length, Upload-Metadata filename)",
    response=UploadOut,
    status=201,
    roles=UPLOADERS,
)
async def create_upload(ctx: Ctx) -> web.StreamResponse:
    length = _int_header(ctx, "Upload-Length")
    name = _metadata(ctx.request.headers.get("Upload-Metadata", "")).get("filename", "file")
    upload = await uploads.create(ctx.session, ctx.me, length, name, ctx.settings, ctx.clock.now())
    location = f"{PREFIX}/uploads/{upload.id}"
    out = UploadOut(id=upload.id, length=upload.length, offset=0)
    return web.Response(
        status=201,
        text=out.model_dump_json(),
        content_type="application/json",
        headers={**_upload_headers(upload), "Location": location},
    )


@router.route(
    "HEAD",
    "/uploads/{id}",
    summary="How much of an upload has arrived (Upload-Offset), to resume it",
    roles=UPLOADERS,
)
async def upload_offset(ctx: Ctx) -> web.StreamResponse:
    upload = await uploads.find(ctx.session, ctx.me, ctx.path_id())
    return web.Response(status=200, headers=_upload_headers(upload))


@router.get(
    "/uploads/{id}",
    summary="An upload's progress, and its file once complete",
    response=UploadOut,
    roles=UPLOADERS,
)
async def upload_state(ctx: Ctx) -> UploadOut:
    upload = await uploads.find(ctx.session, ctx.me, ctx.path_id())
    f = None
    if upload.file_id is not None:
        stored = await ctx.session.get(service.StoredFile, upload.file_id)
        f = service.file_out(stored) if stored is not None else None
    return UploadOut(id=upload.id, length=upload.length, offset=upload.received, file=f)


@router.patch(
    "/uploads/{id}",
    summary="Send a chunk at Upload-Offset (application/offset+octet-stream); the last one "
    "answers 200 with the stored file",
    response=UploadOut,
    roles=UPLOADERS,
)
async def upload_chunk(ctx: Ctx) -> web.StreamResponse:
    if ctx.request.content_type != "application/offset+octet-stream":
        raise UnsupportedMediaType(
            "Send chunks as application/offset+octet-stream.", code="unsupported_media_type"
        )
    offset = _int_header(ctx, "Upload-Offset")
    data = await ctx.request.read()
    if len(data) > MAX_CHUNK:
        raise uploads.too_large(ctx.settings)
    upload_id = ctx.path_id()
    uploader_id = ctx.me.id
    try:
        upload, stored = await uploads.append(
            ctx.session, ctx.me, upload_id, offset, data, ctx.settings, ctx.clock.now()
        )
    except UnsupportedMediaType as exc:
        # Refused for its content: nothing of it is kept (this transaction still commits).
        await ctx.session.rollback()
        await uploads.discard(ctx.session, uploader_id, upload_id)
        return error_response(exc.status, exc.to_json())
    headers = _upload_headers(upload)
    if stored is None:
        return web.Response(status=204, headers=headers)
    out = UploadOut(
        id=upload.id, length=upload.length, offset=upload.received, file=service.file_out(stored)
    )
    return web.Response(
        status=200, text=out.model_dump_json(), content_type="application/json", headers=headers
    )


@router.post(
    "/consultations/{id}/files",
    summary="Attach an uploaded file to a referral or async case (until it ends)",
    body=AttachIn,
    response=FileOut,
    status=201,
    roles=UPLOADERS,
)
async def attach(ctx: Ctx) -> FileOut:
    return await service.attach_to_consultation(
        ctx.session,
        ctx.me,
        ctx.path_id(),
        ctx.body.file_id,
        now=ctx.clock.now(),
        client=ctx.client,
    )


@router.get(
    "/consultations/{id}/files",
    summary="A referral's or async case's files",
    response=list[FileOut],
    roles=UPLOADERS,
)
async def list_files(ctx: Ctx) -> list[dict[str, Any]]:
    files = await service.consultation_files(ctx.session, ctx.me, ctx.path_id())
    return [f.model_dump(mode="json") for f in files]


async def _send(ctx: Ctx, thumbnail: bool) -> web.StreamResponse:
    f, data = await service.read_file(
        ctx.session,
        ctx.me,
        ctx.path_id(),
        ctx.settings,
        thumbnail=thumbnail,
        now=ctx.clock.now(),
        client=ctx.client,
        call_only=ctx.request.get(REQUEST_CALL_ONLY),
    )
    content_type = "image/jpeg" if thumbnail else f.content_type
    disposition = "attachment" if ctx.request.query.get("download") else "inline"
    return web.Response(
        body=data,
        content_type=content_type,
        headers={
            "Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(f.name)}",
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
            # The pages show a PDF in place, in a frame of their own origin.
            "X-Frame-Options": "SAMEORIGIN",
            "Content-Security-Policy": "default-src 'none'; img-src 'self'; "
            "style-src 'unsafe-inline'; frame-ancestors 'self'",
        },
    )


@router.get(
    "/files/{id}",
    summary="A file's content (checked against its hash; under consent for the passport's)",
    produces="application/octet-stream",
)
async def read_file(ctx: Ctx) -> web.StreamResponse:
    return await _send(ctx, thumbnail=False)


@router.get(
    "/files/{id}/thumbnail",
    summary="An image's thumbnail (JPEG)",
    produces="image/jpeg",
)
async def read_thumbnail(ctx: Ctx) -> web.StreamResponse:
    return await _send(ctx, thumbnail=True)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _body_first(handler: Handler) -> Handler:
    """Read the whole chunk before the transaction opens: a slow link never holds a
    database connection (or SQLite's write lock) while it sends."""

    async def handle(request: web.Request) -> web.StreamResponse:
        await request.read()
        return await handler(request)

    handle.__name__ = handler.__name__
    return handle


def install(app: web.Application) -> list[Endpoint]:
    """Add the files' endpoints (chunks are read before their unit of work opens)."""
    for endpoint in router.endpoints:
        handler = make_handler(endpoint)
        if endpoint.method in ("PATCH", "POST"):
            handler = _body_first(handler)
        app.router.add_route(endpoint.method, PREFIX + endpoint.path, handler)
    return list(router.endpoints)
