"""Python SDK for Code Interpreter (standard library only).

    from codeint import Sandbox
    sandbox = Sandbox.create()
    execution = sandbox.run_code("x = 1 + 1; x")
    print(execution.text)
    sandbox.kill()
"""

from ._http import DEFAULT_API_URL, DEFAULT_REQUEST_TIMEOUT, ConnectionConfig, __version__
from .commands import Commands
from .errors import (
    AuthenticationError,
    CodeInterpreterError,
    CommandExitError,
    ConflictError,
    ForbiddenError,
    InvalidArgumentError,
    NotFoundError,
    PayloadTooLargeError,
    RateLimitError,
    ResourceLimitError,
    ServerError,
    TimeoutError,
    UnavailableError,
    ValidationError,
)
from .files import FileStream, Filesystem
from .models import (
    CommandResult,
    Context,
    EntryInfo,
    Execution,
    ExecutionError,
    Logs,
    Result,
    Runtime,
    SandboxInfo,
    WriteInfo,
)
from .sandbox import Sandbox

__all__ = [
    "__version__",
    "DEFAULT_API_URL",
    "DEFAULT_REQUEST_TIMEOUT",
    "ConnectionConfig",
    "Sandbox",
    "Commands",
    "Filesystem",
    "FileStream",
    "CommandResult",
    "Context",
    "EntryInfo",
    "Execution",
    "ExecutionError",
    "Logs",
    "Result",
    "Runtime",
    "SandboxInfo",
    "WriteInfo",
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
]
