"""The README's quick start runs exactly as printed."""

import os
import re
import subprocess
import sys
import unittest

try:
    from . import support
except ImportError:
    import support

SDK = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class ReadmeTest(unittest.TestCase):
    def test_quick_start_runs_as_printed(self) -> None:
        support.require_server()
        with open(os.path.join(SDK, "README.md"), encoding="utf-8") as f:
            readme = f.read()
        section = readme.split("## Quick start", 1)[1]
        program = re.search(r"```python\n(.*?)```", section, re.S).group(1)
        self.assertEqual(len(program.strip().splitlines()), 5)  # plus the pip install: six lines
        env = dict(os.environ, PYTHONPATH=SDK)
        done = subprocess.run(
            [sys.executable, "-c", program], env=env, capture_output=True, text=True, timeout=120
        )
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(done.stdout, "2\n")


if __name__ == "__main__":
    unittest.main()
