"""sandbox.commands: output, cwd, envs, streaming, exit codes and timeouts."""

import time
import unittest
from typing import List, Tuple

from codeint import CommandExitError, CommandResult

try:
    from . import support
except ImportError:
    import support


class CommandsTest(support.SandboxTestCase):
    def test_run(self) -> None:
        result = self.sandbox.commands.run("echo $GREETING; pwd; echo warn >&2", cwd="/tmp", envs={"GREETING": "hi"})
        self.assertIsInstance(result, CommandResult)
        self.assertEqual(result.exit_code, 0)
        self.assertEqual(result.stdout, "hi\n/tmp\n")
        self.assertEqual(result.stderr, "warn\n")
        self.assertGreaterEqual(result.duration_ms, 0)

    def test_default_cwd_is_home(self) -> None:
        self.assertEqual(self.sandbox.commands.run("pwd").stdout, "/home/user\n")

    def test_streams_output(self) -> None:
        seen: List[Tuple[str, str, float]] = []
        started = time.monotonic()
        result = self.sandbox.commands.run(
            "echo first; sleep 1.5; echo second >&2; echo third",
            on_stdout=lambda text: seen.append(("stdout", text, time.monotonic())),
            on_stderr=lambda text: seen.append(("stderr", text, time.monotonic())),
        )
        returned = time.monotonic()
        self.assertEqual(
            [(kind, text) for kind, text, _ in seen],
            [("stdout", "first\n"), ("stderr", "second\n"), ("stdout", "third\n")],
        )
        self.assertLess(seen[0][2] - started, returned - started - 1.0)
        self.assertEqual(result.stdout, "first\nthird\n")

    def test_non_zero_exit_raises(self) -> None:
        with self.assertRaises(CommandExitError) as caught:
            self.sandbox.commands.run("echo partial; echo broken >&2; exit 3")
        error = caught.exception
        self.assertEqual(error.exit_code, 3)
        self.assertEqual(error.stdout, "partial\n")
        self.assertEqual(error.stderr, "broken\n")
        self.assertEqual(error.result.exit_code, 3)
        self.assertIn("broken", str(error))

    def test_timeout_kills_the_command(self) -> None:
        started = time.monotonic()
        with self.assertRaises(CommandExitError) as caught:
            self.sandbox.commands.run("echo started; sleep 30", timeout_ms=1000)
        self.assertLess(time.monotonic() - started, 15)
        self.assertEqual(caught.exception.exit_code, 124)
        self.assertEqual(caught.exception.stdout, "started\n")

    def test_commands_and_files_share_the_workspace(self) -> None:
        self.sandbox.files.write("from-sdk.txt", "written by files.write\n")
        self.assertEqual(self.sandbox.commands.run("cat from-sdk.txt").stdout, "written by files.write\n")


if __name__ == "__main__":
    unittest.main()
