"""The HTTP layer's plumbing: declared endpoints, request context, JSON in and out.

Handlers are declared with :class:`Router` together with their body, query and response
models; the same declarations produce ``/api/v1/openapi.json``. The wrapper authenticates,
checks the role, parses and validates input, opens the request's unit of work and renders
the result, so handlers stay a few lines long.
"""

from __future__ import annotations

import ipaddress
import json
import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from .appkeys import BUS, CLOCK, SESSIONMAKER, SETTINGS
from .codes import Role
from .db.uow import unit_of_work
from .errors import (
    BadRequest,
    Forbidden,
    NotFound,
    UnsupportedMediaType,
    ValidationFailed,
    field_error,
    validation_failed,
)

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from .accounts.models import User

PREFIX = "/api/v1"
MAX_LIMIT = 500
DEFAULT_LIMIT = 50

T = TypeVar("T", bound=BaseModel)


class Page(BaseModel, Generic[T]):
    items: list[T]
    next: str | None = None


@dataclass
class Ctx:
    """What a handler gets: the request, its transaction, the caller and parsed input."""

    request: web.Request
    session: AsyncSession
    user: User | None
    body: Any = None
    query: Any = None

    @property
    def me(self) -> User:
        assert self.user is not None
        return self.user

    def path_id(self, name: str = "id") -> uuid.UUID:
        """A UUID path parameter; anything else names no object, so it is a 404."""
        try:
            return uuid.UUID(self.request.match_info[name])
        except ValueError:
            raise NotFound(code="not_found") from None

    @property
    def client(self) -> str | None:
        """The caller's address: the peer's, or the one a trusted proxy forwarded for."""
        return client_address(self.request, self.settings.trusted_proxies)

    @property
    def clock(self) -> Any:
        return self.request.app[CLOCK]

    @property
    def bus(self) -> Any:
        return self.request.app[BUS]

    @property
    def settings(self) -> Any:
        return self.request.app[SETTINGS]

    @property
    def base_url(self) -> str:
        """Where people open the service: ``TELECONSULT_PUBLIC_URL``, else this request's
        origin (links sent by SMS or e-mail start with it)."""
        public = self.settings.public_url
        if public:
            return str(public).rstrip("/")
        scheme = self.request.headers.get("X-Forwarded-Proto", self.request.scheme)
        return f"{scheme}://{self.request.host}"


def client_address(request: web.Request, trusted_proxies: Sequence[str]) -> str | None:
    """The peer's address, or, when the peer is a trusted proxy (e.g. deploy/nginx.conf),
    the address it appended to X-Forwarded-For (the only entry a client cannot forge)."""
    remote = request.remote
    if remote is None or not trusted_proxies:
        return remote
    try:
        peer = ipaddress.ip_address(remote)
    except ValueError:
        return remote
    if not any(peer in ipaddress.ip_network(net, strict=False) for net in trusted_proxies):
        return remote
    forwarded = request.headers.get("X-Forwarded-For", "").split(",")[-1].strip()
    try:
        return str(ipaddress.ip_address(forwarded))
    except ValueError:
        return remote


Handler = Callable[[Ctx], Awaitable[Any]]


@dataclass
class Endpoint:
    method: str
    path: str
    handler: Handler
    summary: str
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    response: Any = None
    status: int = 200
    roles: frozenset[Role] | None = None
    public: bool = False
    tags: list[str] = field(default_factory=list)
    produces: str = "application/json"
    optional_body: bool = False
    # Reads nothing but reads: no transaction round trips (see db.uow.unit_of_work).
    read_only: bool = False


class Router:
    """Collects a domain's endpoints; ``install`` adds them to the app."""

    def __init__(self, tag: str) -> None:
        self.tag = tag
        self.endpoints: list[Endpoint] = []

    def route(
        self,
        method: str,
        path: str,
        *,
        summary: str,
        body: type[BaseModel] | None = None,
        query: type[BaseModel] | None = None,
        response: Any = None,
        status: int = 200,
        roles: Iterable[Role] | None = None,
        public: bool = False,
        produces: str = "application/json",
        optional_body: bool = False,
        read_only: bool = False,
    ) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.endpoints.append(
                Endpoint(
                    method=method,
                    path=path,
                    handler=handler,
                    summary=summary,
                    body=body,
                    query=query,
                    response=response,
                    status=status,
                    roles=frozenset(roles) if roles is not None else None,
                    public=public,
                    tags=[self.tag],
                    produces=produces,
                    optional_body=optional_body,
                    read_only=read_only,
                )
            )
            return handler

        return register

    def get(self, path: str, **kw: Any) -> Callable[[Handler], Handler]:
        return self.route("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> Callable[[Handler], Handler]:
        return self.route("POST", path, **kw)

    def patch(self, path: str, **kw: Any) -> Callable[[Handler], Handler]:
        return self.route("PATCH", path, **kw)


def _nul_field(data: Any, path: str = "") -> str | None:
    """The path of the first string holding a NUL character (PostgreSQL cannot store one)."""
    if isinstance(data, str):
        return (path or "body") if "\x00" in data else None
    if isinstance(data, dict):
        items: Iterable[tuple[Any, Any]] = data.items()
    elif isinstance(data, list):
        items = enumerate(data)
    else:
        return None
    for key, value in items:
        here = f"{path}.{key}" if path else str(key)
        if "\x00" in str(key):
            return here
        found = _nul_field(value, here)
        if found:
            return found
    return None


async def _parse_body(
    request: web.Request, model: type[BaseModel], optional: bool = False
) -> BaseModel | None:
    raw = await request.read()
    if not raw.strip():
        if optional:
            return None
        raise BadRequest("A JSON body is required.", code="body_required")
    # Only a JSON request may carry a body: a cross-site form cannot send one (it would have
    # to be text/plain or a form encoding), so no page elsewhere can act for a signed-in user.
    if request.content_type != "application/json":
        raise UnsupportedMediaType(code="unsupported_media_type")
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise BadRequest("The body is not valid JSON.", code="body_not_json") from None
    except RecursionError:
        raise BadRequest("The body is nested too deeply.", code="body_too_deep") from None
    if not isinstance(data, dict):
        raise ValidationFailed(
            "The body must be a JSON object.",
            fields={"body": "not an object"},
            field_codes={"body": "not_an_object"},
            code="invalid",
        )
    bad = _nul_field(data)
    if bad:
        raise field_error(bad, "must not contain NUL characters", "nul_character")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_failed(exc) from None


def _parse_query(request: web.Request, model: type[BaseModel]) -> BaseModel:
    query = dict(request.query)
    bad = _nul_field(query)
    if bad:
        raise field_error(bad, "must not contain NUL characters", "nul_character")
    try:
        return model.model_validate(query)
    except ValidationError as exc:
        raise validation_failed(exc) from None


def render(result: Any, status: int = 200) -> web.StreamResponse:
    if isinstance(result, web.StreamResponse):
        return result
    # pydantic writes a model's JSON itself, with no intermediate dict of Python values.
    text = result.model_dump_json() if isinstance(result, BaseModel) else _dumps(result)
    return web.Response(text=text, status=status, content_type="application/json")


def _dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def make_handler(endpoint: Endpoint) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    from .accounts.auth import authenticate

    async def handle(request: web.Request) -> web.StreamResponse:
        if endpoint.body is not None:
            # Read the whole body before the transaction opens, so that a slow client never
            # holds a database connection (or SQLite's write lock) while it uploads.
            await request.read()
        async with unit_of_work(request.app[SESSIONMAKER], read_only=endpoint.read_only) as session:
            # Who is asking comes first: an anonymous caller learns nothing from validation.
            user = None
            if not endpoint.public:
                user = await authenticate(request, session)
                if endpoint.roles is not None and Role(user.role) not in endpoint.roles:
                    raise Forbidden("Your role cannot do this.", code="role_forbidden")
            query = _parse_query(request, endpoint.query) if endpoint.query else None
            body = None
            if endpoint.body is not None:
                body = await _parse_body(request, endpoint.body, endpoint.optional_body)
            ctx = Ctx(request=request, session=session, user=user, body=body, query=query)
            result = await endpoint.handler(ctx)
            response = render(result, endpoint.status)
        return response

    handle.__name__ = endpoint.handler.__name__
    return handle


def install(app: web.Application, routers: Iterable[Router]) -> list[Endpoint]:
    endpoints: list[Endpoint] = []
    for router in routers:
        for endpoint in router.endpoints:
            app.router.add_route(endpoint.method, PREFIX + endpoint.path, make_handler(endpoint))
            endpoints.append(endpoint)
    return endpoints
