"""``Sandbox``: create or connect to a sandbox, run code in it, manage its contexts."""

import math
from typing import Any, Callable, Dict, List, Mapping, Optional, Union

from urllib.parse import quote

from ._http import ConnectionConfig, HttpClient
from ._sse import stream_call
from .commands import Commands
from .errors import ConflictError, NotFoundError
from .files import Filesystem
from .models import Context, Execution, ExecutionError, Result, SandboxInfo

__all__ = ["Sandbox"]

# Friendly names accepted for `language`, mapped to the API's four.
_LANGUAGES = {
    "py": "python",
    "python3": "python",
    "js": "javascript",
    "node": "javascript",
    "nodejs": "javascript",
    "ts": "typescript",
    "sh": "bash",
    "shell": "bash",
}


def _language(value: Optional[str]) -> Optional[str]:
    if value is None:
        return None
    return _LANGUAGES.get(value.lower(), value.lower())


def _seconds(timeout_ms: int) -> int:
    """The API counts sandbox timeouts in whole seconds; round up so nothing ends early."""
    return max(1, int(math.ceil(timeout_ms / 1000.0)))


def _context_id(context: Union[Context, str]) -> str:
    return quote(context.id if isinstance(context, Context) else str(context), safe="")


class Sandbox:
    """An isolated, stateful environment that runs code.

    Make one with ``Sandbox.create()`` (or attach to one with ``Sandbox.connect(id)``);
    ``with Sandbox.create() as sandbox:`` kills it when the block ends.

    Connection options of every class method: ``api_key`` (default: env
    ``CODEINT_API_KEY``), ``api_url`` (default: env ``CODEINT_API_URL``, else
    ``http://127.0.0.1:3000``) and ``request_timeout`` (seconds, default 60).
    """

    def __init__(self, sandbox_id: str, http: HttpClient, info: Optional[SandboxInfo] = None) -> None:
        """Internal: use ``Sandbox.create()`` or ``Sandbox.connect()``."""
        self._id = sandbox_id
        self._path = "/sandboxes/" + quote(sandbox_id, safe="")
        self._http = http
        self._info = info
        #: Files inside the sandbox.
        self.files = Filesystem(http, sandbox_id)
        #: Shell commands inside the sandbox.
        self.commands = Commands(http, sandbox_id)

    @property
    def sandbox_id(self) -> str:
        """The sandbox's id (``sb_…``)."""
        return self._id

    @property
    def api_url(self) -> str:
        return self._http.config.api_url

    def __repr__(self) -> str:
        return "Sandbox(sandbox_id=%r, api_url=%r)" % (self._id, self.api_url)

    # ---- lifecycle ----
    @classmethod
    def create(
        cls,
        runtime: str = "python",
        resources: Optional[Mapping[str, float]] = None,
        timeout_ms: Optional[int] = None,
        envs: Optional[Mapping[str, str]] = None,
        metadata: Optional[Mapping[str, str]] = None,
        api_key: Optional[str] = None,
        api_url: Optional[str] = None,
        request_timeout: Optional[float] = None,
    ) -> "Sandbox":
        """Creates a sandbox and returns once it is running.

        - ``runtime``: ``"python"`` (default), ``"node"``/``"javascript"``, ``"typescript"``,
          ``"bash"`` or an exact name from the server's runtimes (e.g. ``"python3.11"``).
        - ``resources``: ``{"cpu": 0.1-16 cores, "memory": 128-32768 MB}``.
        - ``timeout_ms``: idle time after which the sandbox is stopped (server default 300 s).
        - ``envs``: environment variables for everything run in the sandbox.
        - ``metadata``: your own string labels, returned by ``get_info()`` and ``list()``.
        """
        http = HttpClient(ConnectionConfig(api_key, api_url, request_timeout))
        body: Dict[str, Any] = {"runtime": runtime}
        if resources is not None:
            body["resources"] = dict(resources)
        if timeout_ms is not None:
            body["timeout"] = _seconds(timeout_ms)
        if envs:
            body["env"] = dict(envs)
        if metadata:
            body["metadata"] = dict(metadata)
        try:
            info = SandboxInfo.from_dict(http.call("POST", "/sandboxes", json_body=body))
        except BaseException:
            http.close()
            raise
        return cls(info.sandbox_id, http, info)

    @classmethod
    def connect(
        cls,
        sandbox_id: str,
        api_key: Optional[str] = None,
        api_url: Optional[str] = None,
        request_timeout: Optional[float] = None,
    ) -> "Sandbox":
        """Attaches to a running sandbox by id.

        Raises ``NotFoundError`` for an unknown id (or another user's sandbox) and
        ``ConflictError`` for a sandbox that is no longer running.
        """
        http = HttpClient(ConnectionConfig(api_key, api_url, request_timeout))
        try:
            info = SandboxInfo.from_dict(http.call("GET", "/sandboxes/" + quote(sandbox_id, safe="")))
            if info.status not in ("running", "creating"):
                raise ConflictError(
                    "sandbox %s is not running (status: %s)" % (sandbox_id, info.status), status=409
                )
        except BaseException:
            http.close()
            raise
        return cls(info.sandbox_id, http, info)

    @staticmethod
    def list(
        status: Optional[str] = None,
        api_key: Optional[str] = None,
        api_url: Optional[str] = None,
        request_timeout: Optional[float] = None,
    ) -> List[SandboxInfo]:
        """Your sandboxes, newest first, every page (``status``: e.g. ``"running"``)."""
        http = HttpClient(ConnectionConfig(api_key, api_url, request_timeout))
        try:
            items: List[SandboxInfo] = []
            cursor: Optional[str] = None
            while True:
                page = http.call(
                    "GET", "/sandboxes", query={"status": status, "limit": 100, "cursor": cursor}
                )
                items.extend(SandboxInfo.from_dict(s) for s in page.get("items") or [])
                cursor = page.get("nextCursor")
                if not cursor:
                    return items
        finally:
            http.close()

    def get_info(self) -> SandboxInfo:
        """The sandbox as the server sees it now (status, resources, expiry)."""
        self._info = SandboxInfo.from_dict(self._http.call("GET", self._path))
        return self._info

    def is_running(self) -> bool:
        return self.get_info().status == "running"

    def set_timeout(self, timeout_ms: int) -> SandboxInfo:
        """Keeps the sandbox alive for ``timeout_ms`` from now (whole seconds, rounded up;
        capped by the server's maximum)."""
        data = self._http.call(
            "POST", self._path + "/timeout", json_body={"timeout": _seconds(timeout_ms)}, retry=True
        )
        self._info = SandboxInfo.from_dict(data)
        return self._info

    def kill(self) -> None:
        """Stops the sandbox and frees everything it held. Killing a stopped sandbox is a no-op."""
        try:
            self._info = SandboxInfo.from_dict(self._http.call("DELETE", self._path))
        finally:
            self._http.close()  # nothing much left to ask; later calls reconnect

    def close(self) -> None:
        """Closes idle HTTP connections (the sandbox keeps running)."""
        self._http.close()

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        try:
            self.kill()
        except NotFoundError:
            pass
        except Exception:
            if exc is None:
                raise  # do not hide the block's own exception behind a failed kill
        finally:
            self._http.close()

    # ---- code ----
    def run_code(
        self,
        code: str,
        language: Optional[str] = None,
        context: Optional[Union[Context, str]] = None,
        on_stdout: Optional[Callable[[str], None]] = None,
        on_stderr: Optional[Callable[[str], None]] = None,
        on_result: Optional[Callable[[Result], None]] = None,
        on_error: Optional[Callable[[ExecutionError], None]] = None,
        timeout_ms: Optional[int] = None,
        envs: Optional[Mapping[str, str]] = None,
        request_timeout: Optional[float] = None,
    ) -> Execution:
        """Runs code in a context (the language's default one unless ``context`` is given)
        and returns the ``Execution``: results, logs, error, execution_count.

        The callbacks fire while the code runs, as output arrives. Errors in the code are
        not raised: they are ``Execution.error``. Past ``timeout_ms`` (server default 30 s)
        the code is interrupted and ``Execution.status`` is ``"timeout"``.
        """
        body: Dict[str, Any] = {"code": code}
        lang = _language(language)
        if lang is not None:
            body["language"] = lang
        if context is not None:
            body["contextId"] = _context_id(context)
        if timeout_ms is not None:
            body["timeout"] = int(timeout_ms)
        if envs:
            body["env"] = dict(envs)
        handlers: Dict[str, Callable[[Any], None]] = {}
        if on_stdout is not None:
            handlers["stdout"] = lambda data: on_stdout(str(data.get("text", "")))
        if on_stderr is not None:
            handlers["stderr"] = lambda data: on_stderr(str(data.get("text", "")))
        if on_result is not None:
            handlers["result"] = lambda data: on_result(Result.from_dict(data))
        if on_error is not None:
            handlers["error"] = lambda data: on_error(ExecutionError.from_dict(data))
        path = self._path + "/executions"
        return Execution.from_dict(stream_call(self._http, path, body, handlers, timeout=request_timeout))

    # ---- contexts ----
    def create_code_context(self, language: Optional[str] = None, cwd: Optional[str] = None) -> Context:
        """A new, independent kernel (default language: the sandbox's runtime)."""
        body: Dict[str, Any] = {}
        lang = _language(language)
        if lang is not None:
            body["language"] = lang
        if cwd is not None:
            body["cwd"] = cwd
        return Context.from_dict(self._http.call("POST", self._path + "/contexts", json_body=body))

    def list_code_contexts(self) -> List[Context]:
        data = self._http.call("GET", self._path + "/contexts")
        return [Context.from_dict(c) for c in data or []]

    def restart_code_context(self, context: Union[Context, str]) -> Context:
        """Restarts the context's kernel: its variables and imports are lost."""
        path = "%s/contexts/%s/restart" % (self._path, _context_id(context))
        return Context.from_dict(self._http.call("POST", path))

    def remove_code_context(self, context: Union[Context, str]) -> None:
        path = "%s/contexts/%s" % (self._path, _context_id(context))
        self._http.call("DELETE", path)
