"""Domain errors carry their HTTP status; one middleware renders them all the same way."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import ValidationError


class DomainError(Exception):
    status: ClassVar[int] = 400
    default_detail: ClassVar[str] = "The request could not be processed."

    def __init__(self, detail: str | None = None, *, fields: dict[str, Any] | None = None) -> None:
        self.detail = detail or self.default_detail
        self.fields = fields
        super().__init__(self.detail)

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": type(self).__name__, "detail": self.detail}
        if self.fields:
            body["fields"] = self.fields
        return body


class BadRequest(DomainError):
    status = 400
    default_detail = "The request is malformed."


class ValidationFailed(DomainError):
    status = 422
    default_detail = "Some fields are invalid."


class UnsupportedMediaType(DomainError):
    status = 415
    default_detail = "Send the body as JSON, with Content-Type: application/json."


class Unauthorized(DomainError):
    status = 401
    default_detail = "Authentication is required."


class Forbidden(DomainError):
    status = 403
    default_detail = "You are not allowed to do this."


class NotFound(DomainError):
    status = 404
    default_detail = "Not found."


class Conflict(DomainError):
    status = 409
    default_detail = "The request conflicts with the current state."


class TooManyRequests(DomainError):
    status = 429
    default_detail = "Too many attempts; try again later."

    def __init__(self, detail: str | None = None, *, retry_after: int = 60) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


def field_error(field: str, message: str) -> ValidationFailed:
    """A 422 naming one field."""
    return ValidationFailed(f"{field}: {message}", fields={field: message})


def validation_fields(exc: ValidationError) -> dict[str, str]:
    """Field path → message, never echoing the rejected value (it may be patient data)."""
    fields: dict[str, str] = {}
    for error in exc.errors(include_input=False, include_url=False):
        loc = ".".join(str(part) for part in error["loc"]) or "body"
        fields.setdefault(loc, error["msg"])
    return fields


def validation_failed(exc: ValidationError) -> ValidationFailed:
    fields = validation_fields(exc)
    return ValidationFailed("Invalid " + ", ".join(sorted(fields)), fields=fields)
