"""``sandbox.commands``: shell commands (``bash -lc CMD``) inside a sandbox."""

from typing import Any, Callable, Dict, Mapping, Optional
from urllib.parse import quote

from ._http import HttpClient
from ._sse import stream_call
from .errors import CommandExitError
from .models import CommandResult

__all__ = ["Commands"]


class Commands:
    """The shell of one sandbox (``sandbox.commands``)."""

    def __init__(self, http: HttpClient, sandbox_id: str) -> None:
        self._http = http
        self._path = "/sandboxes/" + quote(sandbox_id, safe="") + "/commands"

    def run(
        self,
        cmd: str,
        cwd: Optional[str] = None,
        envs: Optional[Mapping[str, str]] = None,
        timeout_ms: Optional[int] = None,
        on_stdout: Optional[Callable[[str], None]] = None,
        on_stderr: Optional[Callable[[str], None]] = None,
        request_timeout: Optional[float] = None,
    ) -> CommandResult:
        """Runs ``cmd`` and waits for it; ``on_stdout``/``on_stderr`` get output as it is printed.

        A command still running after ``timeout_ms`` is killed (exit code 124).
        Raises ``CommandExitError`` (with ``exit_code``, ``stdout``, ``stderr``) when the
        exit code is not 0.
        """
        body: Dict[str, Any] = {"cmd": cmd}
        if cwd is not None:
            body["cwd"] = cwd
        if envs:
            body["env"] = dict(envs)
        if timeout_ms is not None:
            body["timeout"] = int(timeout_ms)
        handlers: Dict[str, Callable[[Any], None]] = {}
        if on_stdout is not None:
            handlers["stdout"] = lambda data: on_stdout(str(data.get("text", "")))
        if on_stderr is not None:
            handlers["stderr"] = lambda data: on_stderr(str(data.get("text", "")))
        data = stream_call(self._http, self._path, body, handlers, timeout=request_timeout)
        result = CommandResult.from_dict(data)
        if result.exit_code != 0:
            raise CommandExitError(result.exit_code, result.stdout, result.stderr, result)
        return result
