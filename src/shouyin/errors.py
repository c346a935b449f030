"""Domain errors: a stable code, an HTTP status and a human message.

Services and pure rules raise these; one handler in ``main.py`` turns them into a JSON
problem response (REST) or an inline message (HTML).
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """An expected failure the user can act on."""

    status: int = 400
    code: str = "error"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        # The message is an English template with {placeholders} filled from details; the
        # untouched template is what gets translated.
        self.template = message
        self.details = details or {}
        self.message = message.format(**self.details) if self.details else message
        super().__init__(self.message)
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status

    def to_problem(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            body["details"] = self.details
        return body


class ValidationFailed(DomainError):
    status = 422
    code = "validation"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"
