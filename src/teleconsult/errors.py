"""Domain errors carry their HTTP status; one middleware renders them all the same way."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import ValidationError


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

    def __init__(self, detail: str | None = None, *, retry_after: int = 60) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


def field_error(field: str, message: str, code: str = "invalid") -> ValidationFailed:
    """A 422 naming one field."""
    return ValidationFailed(
        f"{field}: {message}", fields={field: message}, field_codes={field: code}
    )


# The numbers a pydantic error's message is built from, safe to send back.
_PARAMS = ("min_length", "max_length", "ge", "gt", "le", "lt", "max_digits", "decimal_places")


def validation_fields(exc: ValidationError) -> dict[str, str]:
    """Field path → message, never echoing the rejected value (it may be patient data)."""
    fields: dict[str, str] = {}
    for error in exc.errors(include_input=False, include_url=False):
        loc = ".".join(str(part) for part in error["loc"]) or "body"
        fields.setdefault(loc, error["msg"])
    return fields


def validation_failed(exc: ValidationError) -> ValidationFailed:
    fields: dict[str, str] = {}
    codes: dict[str, str] = {}
    params: dict[str, dict[str, Any]] = {}
    for error in exc.errors(include_input=False, include_url=False):
        loc = ".".join(str(part) for part in error["loc"]) or "body"
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
