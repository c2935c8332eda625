"""The one error type of the service, and its JSON shape `{"error": code, "detail": text}`."""

from __future__ import annotations


class ProjectorError(Exception):
    """A failure the user can act on: carries an HTTP status, a short code and a readable detail."""

    status = 400
    code = "bad_request"

    def __init__(self, detail: str, *, code: str | None = None, status: int | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status

    def body(self) -> dict[str, str]:
        return {"error": self.code, "detail": self.detail}


class InvalidInput(ProjectorError):
    """An uploaded or loaded file that cannot become a dataset."""

    status = 400
    code = "invalid_input"


class InvalidParameter(ProjectorError):
    """A query or job parameter of the wrong type or out of range."""

    status = 422
    code = "invalid_parameter"


class NotFound(ProjectorError):
    status = 404
    code = "not_found"


class PayloadTooLarge(ProjectorError):
    status = 413
    code = "payload_too_large"


class Unauthorized(ProjectorError):
    status = 401
    code = "unauthorized"


class Conflict(ProjectorError):
    status = 409
    code = "conflict"


class Forbidden(ProjectorError):
    status = 403
    code = "forbidden"


class TooManyRequests(ProjectorError):
    """A bounded resource (job queue, uploads, event streams) is full: try again after `retry_after` s."""

    status = 429
    code = "too_many_requests"

    def __init__(self, detail: str, *, retry_after: int = 5, code: str | None = None, status: int | None = None) -> None:
        super().__init__(detail, code=code, status=status)
        self.retry_after = retry_after
