"""Domain errors carry their HTTP status; one middleware renders them all the same way."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import ValidationError
from pydantic_core import PydanticCustomError


class DomainError(Exception):
    """An error a person can be told about.

    ``detail`` is English for developers; ``code`` is the stable name the pages translate
    (``error.<code>`` in ``web/i18n/*.json``), falling back to the class's ``default_code``.
    """

    status: ClassVar[int] = 400
    default_detail: ClassVar[str] = "The request could not be processed."
    default_code: ClassVar[str] = "bad_request"

    def __init__(
        self,
        detail: str | None = None,
        *,
        fields: dict[str, Any] | None = None,
        code: str | None = None,
        field_codes: dict[str, str] | None = None,
        field_params: dict[str, dict[str, Any]] | None = None,
    ) -> None:
        self.detail = detail or self.default_detail
        self.fields = fields
        self.code = code or self.default_code
        # Per field: a stable code (``field.<code>`` in the catalogues) and the numbers its
        # message needs ({"min_length": 12}); never the rejected value.
        self.field_codes = field_codes or ({path: "invalid" for path in fields} if fields else None)
        self.field_params = field_params
        super().__init__(self.detail)

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "error": type(self).__name__,
            "code": self.code,
            "detail": self.detail,
        }
        if self.fields:
            body["fields"] = self.fields
        if self.field_codes:
            body["field_codes"] = self.field_codes
        if self.field_params:
            body["field_params"] = self.field_params
        return body


class BadRequest(DomainError):
    status = 400
    default_detail = "The request is malformed."
    default_code = "bad_request"


class ValidationFailed(DomainError):
    status = 422
    default_detail = "Some fields are invalid."
    default_code = "invalid"


class UnsupportedMediaType(DomainError):
    status = 415
    default_detail = "Send the body as JSON, with Content-Type: application/json."
    default_code = "unsupported_media_type"


class Unauthorized(DomainError):
    status = 401
    default_detail = "Authentication is required."
    default_code = "unauthorized"


class Forbidden(DomainError):
    status = 403
    default_detail = "You are not allowed to do this."
    default_code = "forbidden"


class NotFound(DomainError):
    status = 404
    default_detail = "Not found."
    default_code = "not_found"


class Conflict(DomainError):
    status = 409
    default_detail = "The request conflicts with the current state."
    default_code = "conflict"


class TooManyRequests(DomainError):
    status = 429
    default_detail = "Too many attempts; try again later."
    default_code = "too_many_requests"

    def __init__(
        self, detail: str | None = None, *, retry_after: int = 60, code: str | None = None
    ) -> None:
        super().__init__(detail, code=code)
        self.retry_after = retry_after


def field_error(
    field: str, message: str, code: str = "invalid", params: dict[str, Any] | None = None
) -> ValidationFailed:
    """A 422 naming one field: ``code`` is its ``field.<code>`` catalogue key, ``params`` the
    numbers its text needs."""
    return ValidationFailed(
        f"{field}: {message}",
        fields={field: message},
        field_codes={field: code},
        field_params={field: params} if params else None,
    )


def custom_error(code: str, message: str, **params: int) -> PydanticCustomError:
    """What a shared type's validator raises: the 422 then carries ``code`` as the field's
    code (``field.<code>`` in the catalogues) and these numbers as its params."""
    return PydanticCustomError(code, message, params)


# The numbers a pydantic error's message is built from, safe to send back: pydantic's own
# and those of the project's validators (custom_error).
_PARAMS = (
    "min_length",
    "max_length",
    "ge",
    "gt",
    "le",
    "lt",
    "max_digits",
    "decimal_places",
    "earliest_year",
    "latest_year",
    "max_days",
    "max_ids",
)


def validation_fields(exc: ValidationError) -> dict[str, str]:
    """Field path → message, never echoing the rejected value (it may be patient data)."""
    fields: dict[str, str] = {}
    for error in exc.errors(include_input=False, include_url=False):
        loc = ".".join(str(part) for part in error["loc"]) or "body"
        fields.setdefault(loc, error["msg"])
    return fields


def validation_failed(exc: ValidationError, prefix: str = "") -> ValidationFailed:
    """A 422 for a pydantic error: per field its message, its code (the pydantic error type,
    or a custom_error's code) and the numbers of its text; ``prefix`` goes before each path
    (``body.`` for a nested body validated on its own)."""
    fields: dict[str, str] = {}
    codes: dict[str, str] = {}
    params: dict[str, dict[str, Any]] = {}
    for error in exc.errors(include_input=False, include_url=False):
        loc = prefix + (".".join(str(part) for part in error["loc"]) or "body")
        if loc in fields:
            continue
        fields[loc] = error["msg"]
        codes[loc] = error["type"]
        ctx = error.get("ctx") or {}
        numbers = {k: ctx[k] for k in _PARAMS if isinstance(ctx.get(k), int | float)}
        if numbers:
            params[loc] = numbers
    return ValidationFailed(
        "Invalid " + ", ".join(sorted(fields)),
        fields=fields,
        field_codes=codes,
        field_params=params or None,
    )
