"""Server-Sent Events: parses ``event:``/``data:`` frames as the bytes arrive."""

import json
from typing import Any, Callable, Dict, Iterable, Iterator, List, Mapping, Optional, Tuple

from ._http import HttpClient
from .errors import CodeInterpreterError, error_from_response

__all__ = ["iter_events", "stream_call"]


def _lines(chunks: Iterable[bytes]) -> Iterator[str]:
    buffer = b""
    for chunk in chunks:
        buffer += chunk
        while True:
            cut = buffer.find(b"\n")
            if cut < 0:
                break
            line, buffer = buffer[:cut], buffer[cut + 1 :]
            yield line.rstrip(b"\r").decode("utf-8", "replace")
    if buffer:
        yield buffer.rstrip(b"\r").decode("utf-8", "replace")


def iter_events(chunks: Iterable[bytes]) -> Iterator[Tuple[str, Any]]:
    """Yields ``(event, data)`` per frame, ``data`` decoded from JSON (or the raw text)."""
    event: Optional[str] = None
    data: List[str] = []
    for line in _lines(chunks):
        if line == "":
            if data:
                text = "\n".join(data)
                try:
                    payload: Any = json.loads(text)
                except ValueError:
                    payload = text
                yield event or "message", payload
            event, data = None, []
        elif line.startswith(":"):
            continue  # a comment (keep-alive)
        else:
            name, _, value = line.partition(":")
            if value.startswith(" "):
                value = value[1:]
            if name == "event":
                event = value
            elif name == "data":
                data.append(value)
    # A frame cut off by the end of the stream is dropped, as the SSE standard says.


def stream_call(
    http: HttpClient,
    path: str,
    body: Mapping[str, Any],
    handlers: Mapping[str, Callable[[Any], None]],
    timeout: Optional[float] = None,
) -> Any:
    """POSTs with ``Accept: text/event-stream``, calls ``handlers[event](data)`` as each
    event arrives and returns the data of the final ``done`` event.

    Leaving early (a callback raising, Ctrl-C) closes the connection, which makes the
    server interrupt the work.
    """
    response = http.request(
        "POST",
        path,
        json_body=dict(body),
        headers={"Accept": "text/event-stream"},
        timeout=timeout,
        retry=False,
        stream=True,
    )
    try:
        if "text/event-stream" not in (response.headers.get("content-type") or ""):
            payload = response.json()  # a server or proxy that answered without streaming
            if isinstance(payload, dict) and payload.get("success") is True:
                return payload.get("data")
            raise error_from_response(response.status, payload, request_id=response.request_id)
        done: Dict[str, Any] = {}
        for event, data in iter_events(response.iter_chunks(read1=True)):
            if event == "done":
                done["data"] = data
            elif event == "failure":
                raise error_from_response(None, data, request_id=response.request_id)
            else:
                handler = handlers.get(event)
                if handler is not None:
                    handler(data)
        if "data" not in done:
            raise CodeInterpreterError(
                "the event stream ended before its done event", request_id=response.request_id
            )
        return done["data"]
    finally:
        response.close()
