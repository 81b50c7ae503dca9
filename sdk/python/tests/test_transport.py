"""The transport on its own: retries and back-off, error mapping, SSE parsing.

Retry behaviour needs a server that answers 429/503 on demand, so these tests use a
tiny stdlib HTTP server; everything else is tested against the real API.
"""

import builtins
import json
import threading
import time
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List, Tuple

from codeint import (
    RateLimitError,
    ResourceLimitError,
    Sandbox,
    ServerError,
    TimeoutError,
    UnavailableError,
)
from codeint._sse import iter_events


class FakeApi(BaseHTTPRequestHandler):
    """Answers from a script: a list of (status, headers, body) per request path."""

    script: Dict[str, List[Tuple[int, Dict[str, str], Any]]] = {}
    seen: List[str] = []

    def log_message(self, *args: Any) -> None:
        pass

    def _answer(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        if length:
            self.rfile.read(length)
        key = "%s %s" % (self.command, self.path.split("?")[0])
        FakeApi.seen.append(key)
        queue = FakeApi.script.get(key) or [(404, {}, {"success": False, "error": {"code": "NOT_FOUND", "message": "no", "requestId": "r"}})]
        status, headers, body = queue.pop(0) if len(queue) > 1 else queue[0]
        if body == "hang":
            time.sleep(2)
            body = {}
        raw = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("content-length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    do_GET = do_POST = do_DELETE = do_PUT = _answer


def sandbox_json(status: str = "running") -> Dict[str, Any]:
    return {
        "success": True,
        "data": {
            "id": "sb_fake",
            "status": status,
            "runtime": "python3.11",
            "resources": {"cpu": 1, "memory": 256},
            "metadata": {},
            "createdAt": "2025-01-01T00:00:00.000Z",
            "expiresAt": "2025-01-01T00:05:00.000Z",
        },
    }


def envelope_error(code: str, message: str = "m") -> Dict[str, Any]:
    return {"success": False, "error": {"code": code, "message": message, "requestId": "req-1"}}


class TransportTest(unittest.TestCase):
    server: ThreadingHTTPServer

    @classmethod
    def setUpClass(cls) -> None:
        cls.server = ThreadingHTTPServer(("127.0.0.1", 0), FakeApi)
        threading.Thread(target=cls.server.serve_forever, daemon=True).start()
        cls.url = "http://127.0.0.1:%d" % cls.server.server_address[1]

    @classmethod
    def tearDownClass(cls) -> None:
        cls.server.shutdown()
        cls.server.server_close()

    def setUp(self) -> None:
        FakeApi.seen = []
        FakeApi.script = {"GET /api/v1/sandboxes/sb_fake": [(200, {}, sandbox_json())]}

    def connect(self, **kwargs: Any) -> Sandbox:
        return Sandbox.connect("sb_fake", api_key="k", api_url=self.url, **kwargs)

    def test_idempotent_calls_retry_429_and_503(self) -> None:
        sandbox = self.connect()
        FakeApi.script["GET /api/v1/sandboxes/sb_fake"] = [
            (429, {"Retry-After": "0"}, envelope_error("RATE_LIMITED")),
            (503, {}, envelope_error("UNAVAILABLE")),
            (200, {}, sandbox_json()),
        ]
        FakeApi.seen = []
        self.assertEqual(sandbox.get_info().status, "running")
        self.assertEqual(len(FakeApi.seen), 3)

        FakeApi.script["POST /api/v1/sandboxes/sb_fake/timeout"] = [
            (429, {"Retry-After": "0"}, envelope_error("RATE_LIMITED")),
            (200, {}, sandbox_json()),
        ]
        sandbox.set_timeout(60_000)
        self.assertEqual(FakeApi.seen.count("POST /api/v1/sandboxes/sb_fake/timeout"), 2)

    def test_retries_give_up_with_the_typed_error(self) -> None:
        sandbox = self.connect()
        FakeApi.script["GET /api/v1/sandboxes/sb_fake"] = [
            (429, {"Retry-After": "0"}, envelope_error("RATE_LIMITED", "slow down"))
        ]
        FakeApi.seen = []
        with self.assertRaises(RateLimitError) as caught:
            sandbox.get_info()
        self.assertEqual(caught.exception.retry_after, 0)
        self.assertEqual(caught.exception.status, 429)
        self.assertEqual(caught.exception.request_id, "req-1")
        self.assertEqual(len(FakeApi.seen), 4)  # the first try and three retries

    def test_non_idempotent_calls_are_not_retried(self) -> None:
        FakeApi.script["POST /api/v1/sandboxes"] = [(429, {"Retry-After": "7"}, envelope_error("RATE_LIMITED"))]
        with self.assertRaises(RateLimitError) as caught:
            Sandbox.create(api_key="k", api_url=self.url)
        self.assertEqual(caught.exception.retry_after, 7)
        self.assertEqual(FakeApi.seen.count("POST /api/v1/sandboxes"), 1)

    def test_quota_errors_are_not_retried(self) -> None:
        FakeApi.script["GET /api/v1/sandboxes"] = [(429, {}, envelope_error("RESOURCE_LIMIT_ERROR"))]
        with self.assertRaises(ResourceLimitError):
            Sandbox.list(api_key="k", api_url=self.url)
        self.assertEqual(FakeApi.seen.count("GET /api/v1/sandboxes"), 1)

    def test_errors_without_an_envelope(self) -> None:
        sandbox = self.connect()
        FakeApi.script["DELETE /api/v1/sandboxes/sb_fake"] = [(502, {}, "<html>bad gateway</html>")]
        with self.assertRaises(ServerError) as caught:
            sandbox.kill()
        self.assertEqual(caught.exception.status, 502)
        self.assertIn("bad gateway", str(caught.exception))

    def test_unreachable_and_slow_servers(self) -> None:
        with self.assertRaises(UnavailableError):
            Sandbox.list(api_key="k", api_url="http://127.0.0.1:9")
        FakeApi.script["GET /api/v1/sandboxes/sb_fake"] = [(200, {}, "hang")]
        with self.assertRaises(TimeoutError) as caught:
            self.connect(request_timeout=0.3)
        self.assertIsInstance(caught.exception, builtins.TimeoutError)

    def test_list_follows_cursors(self) -> None:
        page1 = {"success": True, "data": {"items": [sandbox_json()["data"]], "nextCursor": "c1"}}
        page2 = {"success": True, "data": {"items": [dict(sandbox_json()["data"], id="sb_two")], "nextCursor": None}}
        FakeApi.script["GET /api/v1/sandboxes"] = [(200, {}, page1), (200, {}, page2)]
        ids = [s.sandbox_id for s in Sandbox.list(api_key="k", api_url=self.url)]
        self.assertEqual(ids, ["sb_fake", "sb_two"])


class SseTest(unittest.TestCase):
    def test_frames_split_anywhere(self) -> None:
        stream = (
            b": keep-alive\n\n"
            b'event: stdout\ndata: {"text":"a\\n"}\n\n'
            b"event: done\r\ndata: {\"status\":\r\ndata: \"completed\"}\r\n\r\n"
            b'event: stdout\ndata: {"text":"cut off'
        )
        for size in (1, 3, 7, len(stream)):
            chunks = [stream[i : i + size] for i in range(0, len(stream), size)]
            self.assertEqual(
                list(iter_events(chunks)),
                [("stdout", {"text": "a\n"}), ("done", {"status": "completed"})],
            )

    def test_multibyte_text_split_across_chunks(self) -> None:
        data = 'event: stdout\ndata: {"text":"✓ ünïcode"}\n\n'.encode("utf-8")
        chunks = [data[i : i + 1] for i in range(len(data))]
        self.assertEqual(list(iter_events(chunks)), [("stdout", {"text": "✓ ünïcode"})])


if __name__ == "__main__":
    unittest.main()
