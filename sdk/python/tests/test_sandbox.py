"""Sandbox lifecycle: create, connect, list, get_info, set_timeout, kill, context manager, errors."""

import os
import unittest
from datetime import datetime, timezone

from codeint import (
    AuthenticationError,
    CodeInterpreterError,
    ConflictError,
    InvalidArgumentError,
    NotFoundError,
    PayloadTooLargeError,
    Sandbox,
    ValidationError,
)

try:
    from . import support
except ImportError:
    import support


class LifecycleTest(support.ServerTestCase):
    def test_create_get_info_connect_list_kill(self) -> None:
        sandbox = self.track(
            Sandbox.create(
                runtime="python",
                resources={"cpu": 0.5, "memory": 256},
                timeout_ms=120_000,
                envs={"GREETING": "hello"},
                metadata={"owner": "sdk-tests"},
            )
        )
        self.assertTrue(sandbox.sandbox_id.startswith("sb_"))
        info = sandbox.get_info()
        self.assertEqual(info.sandbox_id, sandbox.sandbox_id)
        self.assertEqual(info.status, "running")
        self.assertTrue(info.runtime.startswith("python"))
        self.assertEqual(info.resources, {"cpu": 0.5, "memory": 256})
        self.assertEqual(info.metadata, {"owner": "sdk-tests"})
        self.assertIsInstance(info.created_at, datetime)
        self.assertIsNotNone(info.expires_at)
        remaining = (info.expires_at - datetime.now(timezone.utc)).total_seconds()
        self.assertGreater(remaining, 60)
        self.assertTrue(sandbox.is_running())

        # Sandbox-wide envs reach the code.
        self.assertEqual(sandbox.run_code("import os; os.environ['GREETING']").text, "'hello'")

        # Another handle on the same sandbox shares its state.
        sandbox.run_code("shared = 41")
        again = Sandbox.connect(sandbox.sandbox_id)
        self.assertEqual(again.sandbox_id, sandbox.sandbox_id)
        self.assertEqual(again.run_code("shared + 1").text, "42")
        again.close()

        listed = {s.sandbox_id: s for s in Sandbox.list()}
        self.assertIn(sandbox.sandbox_id, listed)
        self.assertEqual(listed[sandbox.sandbox_id].metadata, {"owner": "sdk-tests"})
        running = [s.sandbox_id for s in Sandbox.list(status="running")]
        self.assertIn(sandbox.sandbox_id, running)

        sandbox.kill()
        self.assertEqual(sandbox.get_info().status, "stopped")
        self.assertFalse(sandbox.is_running())
        self.assertNotIn(sandbox.sandbox_id, [s.sandbox_id for s in Sandbox.list(status="running")])
        with self.assertRaises(ConflictError) as caught:
            sandbox.run_code("1")
        self.assertEqual(caught.exception.status, 409)
        with self.assertRaises(ConflictError):
            Sandbox.connect(sandbox.sandbox_id)
        sandbox.kill()  # killing a stopped sandbox is a no-op

    def test_set_timeout(self) -> None:
        sandbox = self.track(Sandbox.create(timeout_ms=30_000))
        before = sandbox.get_info().expires_at
        info = sandbox.set_timeout(300_000)
        self.assertEqual(info.sandbox_id, sandbox.sandbox_id)
        self.assertGreater(info.expires_at, before)
        remaining = (info.expires_at - datetime.now(timezone.utc)).total_seconds()
        self.assertGreater(remaining, 250)
        self.assertLessEqual(remaining, 301)
        self.assertEqual(sandbox.get_info().expires_at, info.expires_at)

    def test_context_manager_kills_on_exit(self) -> None:
        with Sandbox.create() as sandbox:
            self.track(sandbox)
            self.assertEqual(sandbox.run_code("2 * 21").text, "42")
        self.assertEqual(sandbox.get_info().status, "stopped")

        with self.assertRaises(ZeroDivisionError):
            with Sandbox.create() as failing:
                self.track(failing)
                raise ZeroDivisionError("the block's own error is not hidden")
        self.assertEqual(failing.get_info().status, "stopped")

    def test_other_runtime(self) -> None:
        sandbox = self.track(Sandbox.create(runtime="node"))
        self.assertTrue(sandbox.get_info().runtime.startswith("node"))
        sandbox.run_code("const base = 40")
        self.assertEqual(sandbox.run_code("base + 2").text, "42")


class ErrorsTest(support.ServerTestCase):
    def test_unknown_ids_are_not_found(self) -> None:
        with self.assertRaises(NotFoundError) as caught:
            Sandbox.connect("sb_doesnotexist000000000000")
        error = caught.exception
        self.assertEqual(error.code, "NOT_FOUND")
        self.assertEqual(error.status, 404)
        self.assertTrue(error.request_id)
        self.assertIsInstance(error, CodeInterpreterError)

        sandbox = self.track(Sandbox.create())
        with self.assertRaises(NotFoundError):
            sandbox.restart_code_context("ctx_doesnotexist")
        with self.assertRaises(NotFoundError):
            sandbox.remove_code_context("ctx_doesnotexist")
        with self.assertRaises(NotFoundError):
            sandbox.files.read("no/such/file.txt")

    def test_validation_error_names_the_field(self) -> None:
        with self.assertRaises(ValidationError) as caught:
            self.track(Sandbox.create(resources={"memory": 1}))
        error = caught.exception
        self.assertEqual(error.code, "VALIDATION_ERROR")
        self.assertEqual(error.status, 400)
        self.assertEqual(error.field, "resources.memory")
        self.assertIs(InvalidArgumentError, ValidationError)

        with self.assertRaises(ValidationError) as unknown:
            self.track(Sandbox.create(runtime="cobol"))
        self.assertIn("python", str(unknown.exception))  # the valid runtimes are listed

        sandbox = self.track(Sandbox.create())
        with self.assertRaises(ValidationError) as bad_env:
            sandbox.run_code("1", envs={"not a name": "x"})
        self.assertEqual(bad_env.exception.field, "env.not a name")

    def test_code_too_large(self) -> None:
        sandbox = self.track(Sandbox.create())
        with self.assertRaises(PayloadTooLargeError) as caught:
            sandbox.run_code("#" * (1024 * 1024 + 16))
        self.assertEqual(caught.exception.status, 413)

    def test_bad_and_missing_keys(self) -> None:
        with self.assertRaises(AuthenticationError) as caught:
            Sandbox.create(api_key="ci_not_a_real_key")
        self.assertEqual(caught.exception.status, 401)
        self.assertEqual(caught.exception.code, "UNAUTHENTICATED")
        with self.assertRaises(AuthenticationError):
            Sandbox.list(api_key="ci_not_a_real_key")

        saved = os.environ.pop("CODEINT_API_KEY")
        try:
            with self.assertRaises(AuthenticationError) as missing:
                Sandbox.create()
            self.assertIn("CODEINT_API_KEY", str(missing.exception))
        finally:
            os.environ["CODEINT_API_KEY"] = saved

    def test_explicit_url_and_key(self) -> None:
        url = os.environ["CODEINT_API_URL"]
        sandbox = self.track(
            Sandbox.create(api_url=url + "/api/v1/", api_key=os.environ["CODEINT_API_KEY"], request_timeout=30)
        )
        self.assertEqual(sandbox.api_url, url.rstrip("/"))
        self.assertEqual(sandbox.run_code("1 + 1").text, "2")


if __name__ == "__main__":
    unittest.main()
