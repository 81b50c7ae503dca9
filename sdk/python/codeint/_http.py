"""HTTP transport on http.client: envelopes, typed errors, retries, keep-alive, streaming."""

import http.client
import json
import os
import random
import socket
import ssl
import threading
import time
from email.utils import parsedate_to_datetime
from typing import Any, Dict, Generator, List, Mapping, Optional, Tuple, Union
from urllib.parse import quote, urlencode, urlsplit

from .errors import (
    AuthenticationError,
    CodeInterpreterError,
    RateLimitError,
    TimeoutError,
    UnavailableError,
    error_from_response,
)

__all__ = ["ConnectionConfig", "HttpClient", "Response", "DEFAULT_API_URL", "DEFAULT_REQUEST_TIMEOUT"]

__version__ = "0.1.0"

DEFAULT_API_URL = "http://127.0.0.1:3000"
#: Seconds a request may wait for the server (per socket operation).
DEFAULT_REQUEST_TIMEOUT = 60.0
# The server sends an SSE comment every 15 s, so a stream read never needs less than this.
_MIN_STREAM_TIMEOUT = 30.0
_CHUNK = 256 * 1024
_MAX_IDLE = 8
_RETRY_CODES = ("RATE_LIMITED", "UNAVAILABLE")
_STALE = (http.client.RemoteDisconnected, http.client.BadStatusLine, ConnectionResetError, BrokenPipeError)

Body = Union[None, bytes, Any]  # bytes, a binary file-like object, or an iterable of bytes


class ConnectionConfig:
    """Where the API is and how to authenticate.

    - ``api_key``: defaults to the ``CODEINT_API_KEY`` environment variable.
    - ``api_url``: defaults to ``CODEINT_API_URL``, else ``http://127.0.0.1:3000``.
    - ``request_timeout``: seconds per request (socket operation), default 60.
    """

    def __init__(
        self,
        api_key: Optional[str] = None,
        api_url: Optional[str] = None,
        request_timeout: Optional[float] = None,
    ) -> None:
        key = api_key if api_key is not None else os.environ.get("CODEINT_API_KEY", "")
        if not key:
            raise AuthenticationError(
                "no API key: pass api_key=... or set CODEINT_API_KEY "
                "(a local server keeps its admin key in $DATA_DIR/admin.key)"
            )
        self.api_key = key
        url = api_url or os.environ.get("CODEINT_API_URL") or DEFAULT_API_URL
        parts = urlsplit(url if "://" in url else "http://" + url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("api_url must be an http(s) URL, got %r" % url)
        prefix = parts.path.rstrip("/")
        if prefix.endswith("/api/v1"):
            prefix = prefix[: -len("/api/v1")]
        self.api_url = "%s://%s%s" % (parts.scheme, parts.netloc, prefix)
        self.scheme = parts.scheme
        self.host = parts.hostname
        self.port = parts.port
        self.prefix = prefix
        self.request_timeout = float(request_timeout) if request_timeout else DEFAULT_REQUEST_TIMEOUT


class Response:
    """A response whose body has not been read yet; read it, iterate it, or close it."""

    def __init__(self, client: "HttpClient", conn: http.client.HTTPConnection, raw: http.client.HTTPResponse):
        self._client = client
        self._conn: Optional[http.client.HTTPConnection] = conn
        self._raw = raw
        self.status = raw.status
        self.headers = raw.headers

    @property
    def request_id(self) -> Optional[str]:
        return self.headers.get("x-request-id")

    def read(self) -> bytes:
        try:
            data = self._raw.read()
        except (socket.timeout, OSError, http.client.HTTPException) as e:
            self.close()
            raise _transport_error(e, self._client.config) from e
        self._release()
        return data

    def json(self) -> Any:
        data = self.read()
        return json.loads(data.decode("utf-8")) if data else None

    def iter_chunks(self, size: int = _CHUNK, read1: bool = False) -> Generator[bytes, None, None]:
        """The body as it arrives (``read1``: whatever one socket read brings, for streams)."""
        try:
            while True:
                chunk = self._raw.read1(size) if read1 else self._raw.read(size)
                if not chunk:
                    break
                yield chunk
        except (socket.timeout, OSError, http.client.HTTPException) as e:
            self.close()
            raise _transport_error(e, self._client.config) from e
        finally:
            # Complete: the connection can serve another request; cut short: it cannot.
            if self._raw.isclosed():
                self._release()
            else:
                self.close()

    def _release(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            self._client._release(conn, reusable=not self._raw.will_close)

    def close(self) -> None:
        """Drops the connection (the server sees the client go away)."""
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()
        self._raw.close()

    def __enter__(self) -> "Response":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _transport_error(e: BaseException, config: ConnectionConfig) -> CodeInterpreterError:
    if isinstance(e, socket.timeout):
        return TimeoutError(
            "no answer from %s within %gs (request_timeout)" % (config.api_url, config.request_timeout)
        )
    return UnavailableError("cannot reach the API at %s: %s" % (config.api_url, e), status=None)


def _retry_after(value: Optional[str]) -> Optional[float]:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError, IndexError):
        return None


def _early_response(conn: http.client.HTTPConnection) -> Optional[http.client.HTTPResponse]:
    """The answer a server sent before it stopped reading the request body, if any."""
    try:
        if conn.sock is None:
            return None
        conn.sock.settimeout(1.0)  # it is already here, or it is not coming
        raw = conn.getresponse()
    except (OSError, http.client.HTTPException):
        return None
    raw.will_close = True  # the request was cut short: never reuse
    return raw


def _is_replayable(body: Body) -> bool:
    return body is None or isinstance(body, (bytes, bytearray, memoryview))


class HttpClient:
    """One per Sandbox: keeps a few idle keep-alive connections, thread-safe."""

    def __init__(self, config: ConnectionConfig, max_retries: int = 3) -> None:
        self.config = config
        self.max_retries = max_retries
        self._idle: List[http.client.HTTPConnection] = []
        self._lock = threading.Lock()
        self._ssl = ssl.create_default_context() if config.scheme == "https" else None

    # ---- connections ----
    def _new_connection(self, timeout: float) -> http.client.HTTPConnection:
        if self._ssl is not None:
            return http.client.HTTPSConnection(
                self.config.host, self.config.port, timeout=timeout, context=self._ssl, blocksize=_CHUNK
            )
        return http.client.HTTPConnection(self.config.host, self.config.port, timeout=timeout, blocksize=_CHUNK)

    def _acquire(self, timeout: float, fresh: bool) -> Tuple[http.client.HTTPConnection, bool]:
        if not fresh:
            with self._lock:
                conn = self._idle.pop() if self._idle else None
            if conn is not None:
                conn.timeout = timeout
                if conn.sock is not None:
                    conn.sock.settimeout(timeout)
                return conn, True
        return self._new_connection(timeout), False

    def _release(self, conn: http.client.HTTPConnection, reusable: bool) -> None:
        if reusable and conn.sock is not None:
            with self._lock:
                if len(self._idle) < _MAX_IDLE:
                    self._idle.append(conn)
                    return
        conn.close()

    def close(self) -> None:
        """Closes the idle connections; the client stays usable (it opens new ones)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # interpreter shutdown
            pass

    # ---- requests ----
    def url(self, path: str, query: Optional[Mapping[str, Any]] = None) -> str:
        target = self.config.prefix + "/api/v1" + path
        if query:
            pairs = [(k, v) for k, v in query.items() if v is not None]
            if pairs:
                target += "?" + urlencode(pairs, quote_via=quote)
        return target

    def request(
        self,
        method: str,
        path: str,
        query: Optional[Mapping[str, Any]] = None,
        json_body: Any = None,
        body: Body = None,
        headers: Optional[Mapping[str, str]] = None,
        timeout: Optional[float] = None,
        retry: Optional[bool] = None,
        stream: bool = False,
    ) -> Response:
        """Sends a request; raises the typed error for a failure status.

        ``retry`` (default: GET and DELETE only) retries 429 RATE_LIMITED and 503 with
        back-off, honouring Retry-After. A request with a streamed body is never retried.
        """
        hdrs: Dict[str, str] = {
            "Authorization": "Bearer " + self.config.api_key,
            "User-Agent": "codeint-python/" + __version__,
            "Accept": "application/json",
        }
        if json_body is not None:
            body = json.dumps(json_body).encode("utf-8")
            hdrs["Content-Type"] = "application/json"
        if headers:
            hdrs.update(headers)
        if retry is None:
            retry = method in ("GET", "HEAD", "DELETE")
        replayable = _is_replayable(body)
        attempts = 1 + (self.max_retries if retry and replayable else 0)
        wait = timeout if timeout is not None else self.config.request_timeout
        if stream:
            wait = max(wait, _MIN_STREAM_TIMEOUT)
        target = self.url(path, query)
        for attempt in range(attempts):
            conn, raw = self._send(method, target, body, hdrs, wait, replayable)
            response = Response(self, conn, raw)
            if response.status < 400:
                return response
            error = self._error(response)
            last = attempt == attempts - 1
            if last or error.code not in _RETRY_CODES:
                raise error
            delay = error.retry_after if isinstance(error, RateLimitError) else None
            if delay is None:
                delay = min(8.0, 0.5 * (2**attempt)) * (0.5 + random.random() / 2)
            time.sleep(min(delay, 60.0))
        raise AssertionError("unreachable")

    def _send(
        self,
        method: str,
        target: str,
        body: Body,
        headers: Dict[str, str],
        timeout: float,
        replayable: bool,
    ) -> Tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
        # A pooled connection may have been closed by the server while idle: then
        # (and only then) the request is sent again on a new connection.
        conn, reused = self._acquire(timeout, fresh=not replayable)
        if isinstance(body, (bytearray, memoryview)):
            body = bytes(body)
        for second in (False, True):
            try:
                conn.request(method, target, body=body, headers=headers)
            except (OSError, http.client.HTTPException) as e:
                # A server may answer (e.g. 413) and stop reading before the body is all sent.
                early = _early_response(conn) if body is not None and not reused else None
                if early is not None:
                    return conn, early
                conn.close()
                if reused and not second and isinstance(e, _STALE):
                    conn, reused = self._new_connection(timeout), False
                    continue
                raise _transport_error(e, self.config) from e
            try:
                return conn, conn.getresponse()
            except (OSError, http.client.HTTPException) as e:
                conn.close()
                if reused and not second and isinstance(e, _STALE):
                    conn, reused = self._new_connection(timeout), False
                    continue
                raise _transport_error(e, self.config) from e
        raise AssertionError("unreachable")

    def _error(self, response: Response) -> CodeInterpreterError:
        try:
            text = response.read().decode("utf-8", "replace")
        except CodeInterpreterError:
            text = ""
        try:
            body: Any = json.loads(text) if text else None
        except ValueError:
            body = text
        return error_from_response(
            response.status,
            body,
            request_id=response.request_id,
            retry_after=_retry_after(response.headers.get("retry-after")),
        )

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        """A JSON request whose success envelope is unwrapped to its ``data``."""
        response = self.request(method, path, **kwargs)
        payload = response.json()
        if isinstance(payload, dict) and payload.get("success") is True:
            return payload.get("data")
        if isinstance(payload, dict) and payload.get("success") is False:
            raise error_from_response(response.status, payload, request_id=response.request_id)
        return payload

