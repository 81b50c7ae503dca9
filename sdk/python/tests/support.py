"""Shared helpers: the server under test comes from CODEINT_API_URL / CODEINT_API_KEY."""

import os
import unittest
from typing import Any, List

from codeint import NotFoundError, Sandbox

MISSING = (
    "these tests drive a real Code Interpreter server: set CODEINT_API_URL (e.g. http://127.0.0.1:3000) "
    "and CODEINT_API_KEY (e.g. $(cat ~/.codeint/admin.key)); test/sdk-python/python-sdk.test.ts does it for you"
)


def require_server() -> None:
    """Fails the calling test class loudly when no server is configured."""
    if not os.environ.get("CODEINT_API_URL") or not os.environ.get("CODEINT_API_KEY"):
        raise RuntimeError(MISSING)


def kill_quietly(sandbox: Any) -> None:
    try:
        sandbox.kill()
    except NotFoundError:
        pass
    finally:
        sandbox.close()


class SandboxTestCase(unittest.TestCase):
    """One sandbox for the whole class (created once, killed at the end)."""

    sandbox: Sandbox
    create_options: dict = {}

    @classmethod
    def setUpClass(cls) -> None:
        require_server()
        cls.sandbox = Sandbox.create(**cls.create_options)

    @classmethod
    def tearDownClass(cls) -> None:
        kill_quietly(cls.sandbox)


class ServerTestCase(unittest.TestCase):
    """Tests that make their own sandboxes; each is killed in tearDown."""

    def setUp(self) -> None:
        require_server()
        self._made: List[Sandbox] = []

    def track(self, sandbox: Sandbox) -> Sandbox:
        self._made.append(sandbox)
        return sandbox

    def tearDown(self) -> None:
        for sandbox in self._made:
            kill_quietly(sandbox)
