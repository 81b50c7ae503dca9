"""Typed exceptions, one per error code of the API (SPEC section 4).

Every exception raised by the SDK for a failed request is a ``CodeInterpreterError``
carrying the server's ``code``, the HTTP ``status`` and the ``request_id`` to quote
when asking an operator. Errors *in user code* are not exceptions: they come back
as ``Execution.error``.
"""

import builtins
from typing import Any, Dict, Mapping, Optional, Type

__all__ = [
    "CodeInterpreterError",
    "AuthenticationError",
    "ForbiddenError",
    "NotFoundError",
    "ConflictError",
    "ValidationError",
    "InvalidArgumentError",
    "PayloadTooLargeError",
    "RateLimitError",
    "ResourceLimitError",
    "TimeoutError",
    "UnavailableError",
    "ServerError",
    "CommandExitError",
    "error_from_response",
]


class CodeInterpreterError(Exception):
    """Base class of every error the SDK raises."""

    default_code: Optional[str] = None

    def __init__(
        self,
        message: str,
        code: Optional[str] = None,
        status: Optional[int] = None,
        request_id: Optional[str] = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code if code is not None else self.default_code
        self.status = status
        self.request_id = request_id

    def __str__(self) -> str:
        parts = [self.message]
        if self.code:
            parts.append("[%s]" % self.code)
        if self.request_id:
            parts.append("(request %s)" % self.request_id)
        return " ".join(parts)


class AuthenticationError(CodeInterpreterError):
    """401 UNAUTHENTICATED: the API key is missing, unknown, revoked or expired."""

    default_code = "UNAUTHENTICATED"


class ForbiddenError(CodeInterpreterError):
    """403 FORBIDDEN."""

    default_code = "FORBIDDEN"


class NotFoundError(CodeInterpreterError):
    """404 NOT_FOUND: no such sandbox, execution, context or file (or not yours)."""

    default_code = "NOT_FOUND"


class ConflictError(CodeInterpreterError):
    """409 CONFLICT: e.g. the sandbox is not running, or a path is a folder."""

    default_code = "CONFLICT"


class ValidationError(CodeInterpreterError):
    """400 VALIDATION_ERROR; ``field`` names the offending field (e.g. ``resources.memory``)."""

    default_code = "VALIDATION_ERROR"

    def __init__(
        self,
        message: str,
        code: Optional[str] = None,
        status: Optional[int] = None,
        request_id: Optional[str] = None,
        field: Optional[str] = None,
    ) -> None:
        super().__init__(message, code, status, request_id)
        self.field = field


InvalidArgumentError = ValidationError


class PayloadTooLargeError(CodeInterpreterError):
    """413 PAYLOAD_TOO_LARGE: code over MAX_CODE_SIZE or an upload over its limit."""

    default_code = "PAYLOAD_TOO_LARGE"


class RateLimitError(CodeInterpreterError):
    """429 RATE_LIMITED; ``retry_after`` is the wait in seconds the server asked for."""

    default_code = "RATE_LIMITED"

    def __init__(
        self,
        message: str,
        code: Optional[str] = None,
        status: Optional[int] = None,
        request_id: Optional[str] = None,
        retry_after: Optional[float] = None,
    ) -> None:
        super().__init__(message, code, status, request_id)
        self.retry_after = retry_after


class ResourceLimitError(CodeInterpreterError):
    """429 RESOURCE_LIMIT_ERROR: a quota (e.g. sandboxes per user, disk) is used up."""

    default_code = "RESOURCE_LIMIT_ERROR"


class TimeoutError(CodeInterpreterError, builtins.TimeoutError):  # noqa: A001 (mirrors the API's name)
    """The request did not finish within ``request_timeout`` (a client-side timeout).

    Also an instance of the built-in ``TimeoutError``. An execution that runs past its
    own ``timeout_ms`` is not an exception: it returns with ``status == "timeout"``.
    """

    default_code = "TIMEOUT"


class UnavailableError(CodeInterpreterError):
    """503 UNAVAILABLE (not ready, no capacity), or the API could not be reached."""

    default_code = "UNAVAILABLE"


class ServerError(CodeInterpreterError):
    """500 INTERNAL_ERROR and any other unexpected server failure."""

    default_code = "INTERNAL_ERROR"


class CommandExitError(CodeInterpreterError):
    """A command exited with a non-zero code; carries its output."""

    default_code = "COMMAND_EXIT"

    def __init__(self, exit_code: int, stdout: str, stderr: str, result: Any = None) -> None:
        tail = stderr.strip().splitlines()[-1:] if stderr.strip() else []
        message = "command exited with code %d" % exit_code
        if tail:
            message += ": " + tail[0][:200]
        super().__init__(message)
        self.exit_code = exit_code
        self.stdout = stdout
        self.stderr = stderr
        #: The full ``CommandResult`` (duration, truncation flag).
        self.result = result


_BY_CODE: Dict[str, Type[CodeInterpreterError]] = {
    "VALIDATION_ERROR": ValidationError,
    "UNAUTHENTICATED": AuthenticationError,
    "FORBIDDEN": ForbiddenError,
    "NOT_FOUND": NotFoundError,
    "CONFLICT": ConflictError,
    "PAYLOAD_TOO_LARGE": PayloadTooLargeError,
    "RATE_LIMITED": RateLimitError,
    "RESOURCE_LIMIT_ERROR": ResourceLimitError,
    "INTERNAL_ERROR": ServerError,
    "UNAVAILABLE": UnavailableError,
}

_STATUS_BY_CODE: Dict[str, int] = {
    "VALIDATION_ERROR": 400,
    "UNAUTHENTICATED": 401,
    "FORBIDDEN": 403,
    "NOT_FOUND": 404,
    "CONFLICT": 409,
    "PAYLOAD_TOO_LARGE": 413,
    "RATE_LIMITED": 429,
    "RESOURCE_LIMIT_ERROR": 429,
    "INTERNAL_ERROR": 500,
    "UNAVAILABLE": 503,
}

_BY_STATUS: Dict[int, Type[CodeInterpreterError]] = {
    400: ValidationError,
    401: AuthenticationError,
    403: ForbiddenError,
    404: NotFoundError,
    409: ConflictError,
    413: PayloadTooLargeError,
    429: RateLimitError,
    503: UnavailableError,
}


def error_from_response(
    status: Optional[int],
    body: Any,
    request_id: Optional[str] = None,
    retry_after: Optional[float] = None,
) -> CodeInterpreterError:
    """Builds the typed exception for an error envelope (or any failed response)."""
    err: Mapping[str, Any] = {}
    if isinstance(body, Mapping) and isinstance(body.get("error"), Mapping):
        err = body["error"]
    code = err.get("code") if isinstance(err.get("code"), str) else None
    message = err.get("message") if isinstance(err.get("message"), str) else None
    rid = err.get("requestId") if isinstance(err.get("requestId"), str) else request_id
    if status is None and code:
        status = _STATUS_BY_CODE.get(code)  # an error sent inside an event stream
    cls = _BY_CODE.get(code or "") or (_BY_STATUS.get(status or 0) if status else None)
    if cls is None:
        cls = ServerError if (status or 500) >= 500 else CodeInterpreterError
    if not message:
        message = "request failed with HTTP status %s" % status
        if isinstance(body, str) and body.strip():
            message += ": " + body.strip()[:200]
    if code is None:
        code = cls.default_code
    if cls is ValidationError:
        field = err.get("field") if isinstance(err.get("field"), str) else None
        return ValidationError(message, code, status, rid, field=field)
    if cls is RateLimitError:
        return RateLimitError(message, code, status, rid, retry_after=retry_after)
    return cls(message, code, status, rid)
