"""Python kernel for one sandbox context: IPython's InteractiveShell behind the kernel protocol.

See docs/kernel-protocol.md. fd 1/2 carry the raw output of user code, fd 3 brings JSON-line
requests, fd 4 takes JSON-line events. Runs on Debian's /usr/bin/python3 with its IPython.
"""
import base64
import io
import json
import math
import os
import re
import signal
import subprocess
import sys
import threading
import warnings

REQUESTS_FD, EVENTS_FD = 3, 4


class _State:
    rid = None  # id of the running execution; None while idle
    armed = False  # SIGINT may raise KeyboardInterrupt (only while user code runs)
    writing = False  # the main thread is in the middle of writing an event line
    deferred = False  # SIGINT arrived while `writing`; raised once the line is complete
    shown_figures = set()  # ids of figures already rendered by a formatter this execution


_S = _State()
_LOCK = threading.Lock()  # user threads may display() too; lines must not interleave


def _on_sigint(_signum, _frame):
    # An idle kernel must survive SIGINT, and an interrupt must never cut an event line in half.
    if not _S.armed:
        return
    if _S.writing:
        _S.deferred = True
        return
    raise KeyboardInterrupt


# Installed before the slow imports so an early SIGINT cannot kill the kernel.
signal.signal(signal.SIGINT, _on_sigint)
# Children (os.system, `!cmd &` daemons) must not hold the protocol pipes open after we exit.
os.set_inheritable(REQUESTS_FD, False)
os.set_inheritable(EVENTS_FD, False)
# Output must reach the agent as it is produced, not when an 8 KiB block buffer fills.
sys.stdout.reconfigure(encoding="utf-8", errors="backslashreplace", line_buffering=True)
sys.stderr.reconfigure(encoding="utf-8", errors="backslashreplace", line_buffering=True)
# Headless: Agg is the only backend that makes sense; figures come back as PNG results.
os.environ["MPLBACKEND"] = "Agg"
# Noise about things that are by design here (non-GUI backend, "To exit: use 'exit'...").
warnings.filterwarnings("ignore", message=r".*(non-GUI backend|non-interactive, and thus cannot be shown)")
warnings.filterwarnings("ignore", message=r"To exit: use 'exit'")

from IPython.core.displayhook import DisplayHook  # noqa: E402
from IPython.core.displaypub import DisplayPublisher  # noqa: E402
from IPython.core.interactiveshell import InteractiveShell  # noqa: E402
from traitlets import Type  # noqa: E402
from traitlets.config import Config  # noqa: E402

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _jsonable(value):
    """MIME bundles may hold bytes (PNG, PDF) or NaN (application/json): make them valid JSON."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, (str, int, float)):
        return value
    return str(value)


def _emit(event):
    line = (json.dumps(event, ensure_ascii=True, allow_nan=False) + "\n").encode("ascii")
    main = threading.current_thread() is threading.main_thread()
    with _LOCK:
        _S.writing = main
        try:
            view = memoryview(line)
            while view:  # a large line may take several writes on a pipe
                view = view[os.write(EVENTS_FD, view):]
        finally:
            _S.writing = False
    if main and _S.deferred:
        _S.deferred = False
        raise KeyboardInterrupt


def _emit_result(data, main):
    if _S.rid is None:  # a user thread displaying after `done`: nobody is listening for it
        return
    _flush_std()  # keep prints that came before a display ahead of it
    _emit({"type": "result", "id": _S.rid, "data": _jsonable(data), "isMainResult": main})


def _flush_std():
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):  # user may swap them
        try:
            stream.flush()
        except Exception:
            pass


class _DisplayHook(DisplayHook):
    """The value of the last expression becomes the main result; no Out[n] prompt on stdout."""

    def write_output_prompt(self):
        pass

    def write_format_data(self, format_dict, md_dict=None):
        _emit_result(format_dict, True)

    def finish_displayhook(self):
        _flush_std()


class _DisplayPublisher(DisplayPublisher):
    """display(x) becomes a non-main result."""

    def publish(self, data, metadata=None, source=None, *, transient=None, update=False, **kwargs):
        _emit_result(data, False)

    def clear_output(self, wait=False):
        pass


class _Shell(InteractiveShell):
    displayhook_class = Type(_DisplayHook)  # not configurable traits: must be overridden here
    display_pub_class = Type(_DisplayPublisher)

    def ask_exit(self):
        pass  # exit()/quit(): the kernel's life belongs to the agent, so they are a no-op

    def _showtraceback(self, etype, evalue, stb):
        # Errors go to fd 4 as one event, not to stdout like the terminal shell does.
        if issubclass(etype, SystemExit) and evalue.code in (None, 0):
            return  # sys.exit() / sys.exit(0): a normal end, nothing to report
        try:
            value = str(evalue)
        except Exception:
            value = "<unprintable %s>" % etype.__name__
        _flush_std()
        _emit({"type": "error", "id": _S.rid, "name": etype.__name__, "value": value,
               "traceback": _ANSI.sub("", "\n".join(stb))})

    def show_usage_error(self, exc):
        # Bad magic usage is reported like any error rather than printed to stderr.
        _emit({"type": "error", "id": _S.rid, "name": "UsageError", "value": str(exc),
               "traceback": "UsageError: %s" % exc})

    def system(self, cmd):
        # `!cmd` without IPython's pty: children write straight to fds 1/2 (stderr stays stderr) and
        # `&` works. Own session, so an interrupt can kill the whole pipeline, not just the shell.
        cmd = self.var_expand(cmd, depth=1)
        _flush_std()
        proc = subprocess.Popen(cmd, shell=True, executable=os.environ.get("SHELL") or None,
                                start_new_session=True)
        try:
            code = proc.wait()
        except KeyboardInterrupt:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except OSError:
                pass
            proc.wait()
            raise
        self.user_ns["_exit_code"] = -(code - 128) if code > 128 else code

    def enable_matplotlib(self, gui=None):
        # `%matplotlib inline|widget|qt` all mean the same here: Agg, figures flushed as PNG results.
        import matplotlib.pyplot  # noqa: F401
        return "inline", "agg"


def _figure_png(fig):
    _S.shown_figures.add(id(fig))
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    return buf.getvalue()


def _flush_figures(shell):
    """Like Jupyter's inline backend: every figure left open becomes a PNG result, then is closed."""
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is None:  # user code never touched pyplot; don't pay for importing it
        return
    from matplotlib._pylab_helpers import Gcf
    try:
        for manager in Gcf.get_all_fig_managers():
            fig = manager.canvas.figure
            if id(fig) not in _S.shown_figures:
                _emit_result({"image/png": _figure_png(fig), "text/plain": repr(fig)}, False)
    except Exception:
        shell.showtraceback()
    finally:
        plt.close("all")


def _create_shell():
    config = Config()
    config.InteractiveShell.colors = "NoColor"  # tracebacks without ANSI escapes
    config.InteractiveShell.warn_venv = False
    config.HistoryManager.hist_file = ":memory:"  # no sqlite file or saver thread in $HOME
    with warnings.catch_warnings():  # e.g. "IPython dir is not writable": falls back to /tmp
        warnings.simplefilter("ignore")
        shell = _Shell.instance(config=config)
    # A figure shown as a value (last expression, display(fig)) carries its PNG, like Jupyter.
    png = shell.display_formatter.formatters["image/png"]
    png.for_type_by_name("matplotlib.figure", "Figure", _figure_png)
    return shell


def _preload():
    # Warm-pool kernels pay the heavy imports before a user is waiting. Only sys.modules is
    # warmed: the user namespace stays the same as in a cold kernel.
    for name in ("numpy", "pandas", "matplotlib", "matplotlib.pyplot"):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                __import__(name)
        except Exception:
            pass


def _execute(shell, req):
    code = req.get("code") or ""
    env = req.get("env")
    env = {str(k): str(v) for k, v in env.items()} if isinstance(env, dict) else {}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    if signal.getsignal(signal.SIGINT) is not _on_sigint:  # user code may have replaced it
        signal.signal(signal.SIGINT, _on_sigint)
    _S.rid, _S.shown_figures = req.get("id"), set()
    try:
        _S.armed = True
        try:
            shell.run_cell(code, store_history=True)
            _flush_figures(shell)
        finally:
            _S.armed = _S.deferred = False
    except KeyboardInterrupt:  # landed outside user code (IPython internals, our own hooks)
        _emit({"type": "error", "id": _S.rid, "name": "KeyboardInterrupt", "value": "",
               "traceback": "KeyboardInterrupt"})
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    _flush_std()
    rid, _S.rid = _S.rid, None
    _emit({"type": "done", "id": rid, "executionCount": shell.execution_count - 1})


def main():
    shell = _create_shell()
    if os.environ.get("CODEINT_PRELOAD") == "1":
        _preload()
    _emit({"type": "ready"})
    with open(REQUESTS_FD, "r", encoding="utf-8", errors="replace", closefd=False) as requests:
        for line in requests:
            try:
                req = json.loads(line)
            except ValueError:
                continue
            if isinstance(req, dict) and req.get("type") == "execute":
                _execute(shell, req)
    # EOF: the agent is gone. os._exit so lingering user threads cannot keep us alive.
    _flush_std()
    os._exit(0)


if __name__ == "__main__":
    main()
