"""run_code: state, streaming, rich results, errors, timeouts and contexts."""

import base64
import time
import unittest
from typing import List, Tuple

from codeint import Context, Execution, ExecutionError, Result

try:
    from . import support
except ImportError:
    import support


class RunCodeTest(support.SandboxTestCase):
    def test_state_persists_between_calls(self) -> None:
        first = self.sandbox.run_code("x = 1 + 1; x")
        self.assertIsInstance(first, Execution)
        self.assertEqual(first.text, "2")
        self.assertEqual(first.status, "completed")
        self.assertIsNone(first.error)
        self.assertTrue(first.id.startswith("ex_"))
        self.assertEqual(first.sandbox_id, self.sandbox.sandbox_id)
        self.assertEqual(first.language, "python")
        self.assertGreaterEqual(first.duration_ms, 0)
        self.sandbox.run_code("import math\ndef area(r):\n    return math.pi * r ** 2")
        second = self.sandbox.run_code("round(area(x), 3)")
        self.assertEqual(second.text, "12.566")
        self.assertGreater(second.execution_count, first.execution_count)

    def test_logs_and_results(self) -> None:
        execution = self.sandbox.run_code(
            "import sys\nprint('to stdout')\nprint('to stderr', file=sys.stderr)\n'last'"
        )
        self.assertEqual(execution.logs.stdout, ["to stdout\n"])
        self.assertEqual(execution.logs.stderr, ["to stderr\n"])
        self.assertEqual(len(execution.results), 1)
        main = execution.results[0]
        self.assertTrue(main.is_main_result)
        self.assertEqual(main.text, "'last'")
        self.assertEqual(main.formats(), ["text"])

        silent = self.sandbox.run_code("y = 3")
        self.assertEqual(silent.results, [])
        self.assertIsNone(silent.text)

    def test_streaming_callbacks_fire_while_code_runs(self) -> None:
        events: List[Tuple[str, str, float]] = []
        results: List[Result] = []
        started = time.monotonic()
        execution = self.sandbox.run_code(
            "import sys, time\n"
            "print('one', flush=True)\n"
            "time.sleep(1.5)\n"
            "print('oops', file=sys.stderr, flush=True)\n"
            "time.sleep(0.5)\n"
            "print('two', flush=True)\n"
            "'end'",
            on_stdout=lambda text: events.append(("stdout", text, time.monotonic())),
            on_stderr=lambda text: events.append(("stderr", text, time.monotonic())),
            on_result=results.append,
        )
        returned = time.monotonic()
        self.assertEqual(
            [(kind, text) for kind, text, _ in events],
            [("stdout", "one\n"), ("stderr", "oops\n"), ("stdout", "two\n")],
        )
        # The first line arrived while the code was still sleeping, not with the reply.
        self.assertLess(events[0][2] - started, returned - started - 1.5)
        self.assertGreater(events[1][2] - events[0][2], 1.0)
        self.assertEqual([r.text for r in results], ["'end'"])
        self.assertEqual(execution.logs.stdout, ["one\n", "two\n"])
        self.assertEqual(execution.text, "'end'")

    def test_matplotlib_chart_becomes_png(self) -> None:
        seen: List[Result] = []
        execution = self.sandbox.run_code(
            "import matplotlib.pyplot as plt\nplt.plot([1, 3, 2])\nplt.title('chart')\nplt.show()",
            on_result=seen.append,
        )
        self.assertIsNone(execution.error)
        charts = [r for r in execution.results if r.png]
        self.assertEqual(len(charts), 1)
        chart = charts[0]
        self.assertFalse(chart.is_main_result)
        self.assertIn("png", chart.formats())
        self.assertTrue(base64.b64decode(chart.png).startswith(b"\x89PNG\r\n\x1a\n"))
        self.assertEqual([r.png for r in seen], [chart.png])

    def test_dataframe_and_display(self) -> None:
        execution = self.sandbox.run_code(
            "import pandas as pd\n"
            "from IPython.display import display, Markdown\n"
            "display(Markdown('**bold**'))\n"
            "pd.DataFrame({'a': [1, 2], 'b': [3, 4]})"
        )
        markdown = [r for r in execution.results if r.markdown]
        self.assertEqual(len(markdown), 1)
        self.assertFalse(markdown[0].is_main_result)
        self.assertEqual(markdown[0].markdown, "**bold**")
        frame = execution.results[-1]
        self.assertTrue(frame.is_main_result)
        self.assertIn("<table", frame.html)
        self.assertIn("html", frame.formats())
        self.assertIn("a  b", frame.text)
        self.assertEqual(frame._repr_html_(), frame.html)

    def test_error_in_user_code_is_not_an_exception(self) -> None:
        errors: List[ExecutionError] = []
        execution = self.sandbox.run_code(
            "print('before')\n1 / 0", on_error=errors.append
        )
        self.assertEqual(execution.status, "error")
        self.assertIsNotNone(execution.error)
        self.assertEqual(execution.error.name, "ZeroDivisionError")
        self.assertIn("division by zero", execution.error.value)
        self.assertIn("ZeroDivisionError", execution.error.traceback)
        self.assertEqual(execution.logs.stdout, ["before\n"])
        self.assertEqual(errors, [execution.error])
        # The kernel is still fine afterwards.
        self.assertEqual(self.sandbox.run_code("'still alive'").text, "'still alive'")

    def test_timeout_interrupts_and_sandbox_stays_usable(self) -> None:
        self.sandbox.run_code("kept = 'yes'")
        started = time.monotonic()
        execution = self.sandbox.run_code(
            "import time\nprint('going to sleep', flush=True)\ntime.sleep(30)", timeout_ms=1500
        )
        self.assertLess(time.monotonic() - started, 20)
        self.assertEqual(execution.status, "timeout")
        self.assertEqual(execution.logs.stdout, ["going to sleep\n"])
        after = self.sandbox.run_code("1 + 1")
        self.assertEqual(after.text, "2")
        self.assertEqual(after.status, "completed")

    def test_per_execution_envs(self) -> None:
        execution = self.sandbox.run_code("import os; os.environ.get('ONLY_HERE')", envs={"ONLY_HERE": "yes"})
        self.assertEqual(execution.text, "'yes'")

    def test_callback_exception_propagates(self) -> None:
        def boom(_text: str) -> None:
            raise RuntimeError("from the callback")

        with self.assertRaises(RuntimeError):
            self.sandbox.run_code("print('x', flush=True)\nimport time; time.sleep(5)", on_stdout=boom)
        # Hanging up interrupted the execution; the sandbox takes new code.
        self.assertEqual(self.sandbox.run_code("'ok'", timeout_ms=20_000).text, "'ok'")

    def test_other_languages_in_one_sandbox(self) -> None:
        js = self.sandbox.run_code("const items = [1, 2, 3]; items.map((v) => v * 2)", language="javascript")
        self.assertEqual(js.language, "javascript")
        self.assertEqual(js.text, "[ 2, 4, 6 ]")
        self.assertEqual(self.sandbox.run_code("items.length", language="js").text, "3")
        bash = self.sandbox.run_code("echo from-bash", language="bash")
        self.assertEqual(bash.logs.stdout, ["from-bash\n"])


class ContextsTest(support.SandboxTestCase):
    def test_create_list_restart_remove(self) -> None:
        context = self.sandbox.create_code_context(language="python", cwd="/tmp")
        self.assertIsInstance(context, Context)
        self.assertEqual(context.language, "python")
        self.assertEqual(context.cwd, "/tmp")
        self.assertIn(context.id, [c.id for c in self.sandbox.list_code_contexts()])

        # Contexts are independent kernels.
        self.sandbox.run_code("label = 'default'")
        self.sandbox.run_code("label = 'mine'", context=context)
        self.assertEqual(self.sandbox.run_code("label").text, "'default'")
        self.assertEqual(self.sandbox.run_code("label", context=context).text, "'mine'")
        self.assertEqual(self.sandbox.run_code("import os; os.getcwd()", context=context.id).text, "'/tmp'")

        restarted = self.sandbox.restart_code_context(context)
        self.assertEqual(restarted.id, context.id)
        gone = self.sandbox.run_code("label", context=context)
        self.assertEqual(gone.error.name, "NameError")

        self.sandbox.remove_code_context(context)
        self.assertNotIn(context.id, [c.id for c in self.sandbox.list_code_contexts()])

    def test_javascript_context(self) -> None:
        context = self.sandbox.create_code_context(language="javascript")
        self.assertEqual(context.language, "javascript")
        self.sandbox.run_code("let total = 0; for (const n of [1, 2, 3]) total += n", context=context)
        self.assertEqual(self.sandbox.run_code("total", context=context).text, "6")
        self.sandbox.remove_code_context(context.id)


if __name__ == "__main__":
    unittest.main()
