"""In-sandbox agent: one per sandbox, the only process the host talks to.

Runs as the sandbox's unprivileged user inside its namespaces (started by bwrap as
`/usr/bin/python3 -I -S /opt/codeint/agent.py`). It multiplexes kernels (one process
per context), commands and file operations over one JSON-lines pipe pair with the
host. Because all file I/O happens here, host code never resolves a path that the
sandbox controls: symlinks planted by user code can only point inside the sandbox.

Protocol: docs/kernel-protocol.md (kernels) and packages/server/src/engine/agent-protocol.ts (host).
"""

import base64
import codecs
import ctypes
import json
import os
import selectors
import signal
import stat
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON = "/usr/bin/python3"
NODE = "/usr/bin/node"
BASH = "/bin/bash"
READ_CHUNK = 65536
FILE_CHUNK = 262144
MAX_EVENT_LINE = 64 * 1024 * 1024  # a kernel line longer than this is dropped, not buffered forever
PARTIAL_FLUSH = 0.05  # seconds a partial output line may wait for its end

sel = selectors.DefaultSelector()
partials = set()  # Streams holding a partial line
out_fd = sys.stdout.fileno()


def send(msg):
    data = (json.dumps(msg, separators=(",", ":")) + "\n").encode()
    view = memoryview(data)
    while view:
        n = os.write(out_fd, view)
        view = view[n:]


def harden():
    # As PID 1 of the sandbox's PID namespace, the kernel delivers no signal to us from
    # inside the sandbox unless we handle it: `kill -9 -1` by user code cannot take
    # the agent down. Not dumpable: user code (same uid) cannot open /proc/<agent>/fd/* to forge
    # protocol messages or read the host's requests.
    try:
        ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 4
    except Exception:
        pass


class Stream:
    """Reads one pipe and hands on whole lines as they complete.

    UTF-8 is decoded incrementally so characters are never split. A partial line
    (a prompt, a progress bar) is held only briefly: it goes out with the next read,
    or after PARTIAL_FLUSH seconds of silence, or when the pipe is drained.
    """

    def __init__(self, fileobj, on_text):
        self.file = fileobj  # owns the fd: closing it here, not in the GC, avoids double closes
        fd = self.fd = fileobj.fileno()
        self.decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self.on_text = on_text
        self.partial = ""
        os.set_blocking(fd, False)
        sel.register(fd, selectors.EVENT_READ, self)

    def pump(self):
        """Reads what is there; returns False when nothing was read (empty or closed)."""
        try:
            data = os.read(self.fd, READ_CHUNK)
        except BlockingIOError:
            return False
        except OSError:
            data = b""
        if not data:
            self.close()
            return False
        text = self.partial + self.decoder.decode(data)
        cut = text.rfind("\n") + 1
        if len(text) - cut > READ_CHUNK:
            cut = len(text)  # a line that never ends goes out in pieces
        self.partial = text[cut:]
        if cut:
            self.on_text(text[:cut])
        if self.partial:
            partials.add(self)
        return True

    def flush(self):
        if self.partial:
            text, self.partial = self.partial, ""
            self.on_text(text)
        partials.discard(self)

    def drain(self):
        while self.fd >= 0 and self.pump():
            pass
        self.flush()

    def close(self):
        self.flush()
        if self.fd >= 0:
            try:
                sel.unregister(self.fd)
            except (KeyError, ValueError):
                pass
            self.file.close()
            self.fd = -1


class OutputBudget:
    """Caps captured output per execution/command; the rest is dropped and flagged."""

    def __init__(self, limit):
        self.left = limit
        self.truncated = False

    def take(self, n):
        if n <= self.left:
            self.left -= n
            return True
        self.left = 0
        self.truncated = True
        return False


class Kernel:
    def __init__(self, ctx, language, cwd, env):
        self.ctx = ctx
        self.language = language
        self.current = None  # (rid, budget) of the running execution
        self.ready_rid = None
        self.startup_output = ""
        self.count = 0
        req_r, self.req_w = os.pipe()
        ev_r, ev_w = os.pipe()
        argv = self._argv(language)

        def fds():
            # Move the protocol pipes to fds 3 and 4 (docs/kernel-protocol.md).
            a, b = os.dup(req_r), os.dup(ev_w)
            os.dup2(a, 3)
            os.dup2(b, 4)

        self.proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=cwd,
            env=env,
            pass_fds=(3, 4),
            preexec_fn=fds,
            start_new_session=True,
        )
        children[self.proc.pid] = self.proc
        os.close(req_r)
        os.close(ev_w)
        self.out = Stream(self.proc.stdout, lambda t: self._stream("stdout", t))
        self.err = Stream(self.proc.stderr, lambda t: self._stream("stderr", t))
        self.buf = b""
        os.set_blocking(ev_r, False)
        self.ev_fd = ev_r
        sel.register(ev_r, selectors.EVENT_READ, self)

    @staticmethod
    def _argv(language):
        if language == "python":
            return [PYTHON, os.path.join(HERE, "python_kernel.py")]
        if language in ("javascript", "typescript"):
            argv = [NODE, os.path.join(HERE, "node_kernel.cjs")]
            return argv + (["--typescript"] if language == "typescript" else [])
        if language == "bash":
            return [PYTHON, "-I", "-S", os.path.join(HERE, "bash_kernel.py")]
        raise ValueError("unsupported language: " + language)

    def _stream(self, name, text):
        if self.current is None:
            if self.ready_rid is not None:
                self.startup_output = (self.startup_output + text)[-2000:]  # explains a failed start
            return  # output from background work between executions has no owner
        rid, budget = self.current
        if budget.take(len(text.encode())):
            send({"rid": rid, "ev": name, "text": text})

    def pump(self):
        try:
            data = os.read(self.ev_fd, READ_CHUNK)
        except BlockingIOError:
            return False
        except OSError:
            data = b""
        if not data:
            self._died()
            return False
        self.buf += data
        while b"\n" in self.buf:
            line, self.buf = self.buf.split(b"\n", 1)
            self._event(line)
        if len(self.buf) > MAX_EVENT_LINE:
            self.buf = b""
        return True

    def _event(self, line):
        try:
            ev = json.loads(line)
        except ValueError:
            return
        kind = ev.get("type") if isinstance(ev, dict) else None
        if kind == "ready" and self.ready_rid is not None:
            send({"rid": self.ready_rid, "ev": "ok", "pid": self.proc.pid})
            self.ready_rid = None
            return
        if self.current is None:
            return
        rid, budget = self.current
        if kind == "result":
            data = ev.get("data") if isinstance(ev.get("data"), dict) else {}
            if budget.take(len(line)):
                send({"rid": rid, "ev": "result", "data": data, "main": bool(ev.get("isMainResult"))})
        elif kind == "error":
            send({"rid": rid, "ev": "error", "name": str(ev.get("name", "Error")),
                  "value": str(ev.get("value", ""))[:65536], "traceback": str(ev.get("traceback", ""))[:1048576]})
        elif kind == "done":
            # Everything printed before `done` is already in the pipes: drain it first.
            self.out.drain()
            self.err.drain()
            count = ev.get("executionCount")
            self.count = count if isinstance(count, int) else self.count + 1
            self.current = None
            send({"rid": rid, "ev": "done", "executionCount": self.count, "truncated": budget.truncated})

    def execute(self, rid, code, env, limit):
        if self.current is not None:
            raise RuntimeError("context is busy")
        self.current = (rid, OutputBudget(limit))
        msg = json.dumps({"type": "execute", "id": str(rid), "code": code, "env": env}) + "\n"
        try:
            os.write(self.req_w, msg.encode()) if len(msg) < 65536 else _write_all(self.req_w, msg.encode())
        except OSError:
            self._died()

    def interrupt(self):
        try:
            if self.language == "bash":
                os.killpg(self.proc.pid, signal.SIGINT)
            else:
                os.kill(self.proc.pid, signal.SIGINT)
        except ProcessLookupError:
            pass

    def reap(self):
        # The process is gone; events it wrote before exiting are still in the pipe.
        while self.ev_fd >= 0 and self.pump():
            pass
        self._died()

    def _died(self):
        """The kernel is gone or misbehaving: kill its process group, fail what waits on it."""
        if self.ev_fd >= 0:
            try:
                sel.unregister(self.ev_fd)
            except (KeyError, ValueError):
                pass
            os.close(self.ev_fd)
            self.ev_fd = -1
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        # What it printed before dying is still in the pipes (a start-up error, say).
        self.out.drain()
        self.err.drain()
        self.out.close()
        self.err.close()
        if self.req_w >= 0:
            os.close(self.req_w)
            self.req_w = -1
        if self.proc.returncode is None:
            self.proc.wait()
            children.pop(self.proc.pid, None)
        if self.ready_rid is not None:
            send({"rid": self.ready_rid, "ev": "fail",
                  "message": "kernel exited during start-up: " + self.startup_output.strip()})
            self.ready_rid = None
        if self.current is not None:
            rid, budget = self.current
            self.current = None
            send({"rid": rid, "ev": "error", "name": "KernelDied",
                  "value": "the kernel process exited; the context was reset", "traceback": ""})
            send({"rid": rid, "ev": "done", "executionCount": self.count, "truncated": budget.truncated,
                  "kernelDied": True})
        if contexts.get(self.ctx) is self:
            del contexts[self.ctx]

    def stop(self):
        self._died()


def _write_all(fd, data):
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


class Command:
    """`bash -lc CMD` in its own process group, streaming output until it exits."""

    def __init__(self, rid, cmd, cwd, env, limit, stdin):
        self.rid = rid
        self.budget = OutputBudget(limit)
        self.proc = subprocess.Popen(
            [BASH, "-lc", cmd],
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=cwd,
            env=env,
            start_new_session=True,
        )
        children[self.proc.pid] = self.proc
        self.out = Stream(self.proc.stdout, lambda t: self._stream("stdout", t))
        self.err = Stream(self.proc.stderr, lambda t: self._stream("stderr", t))
        send({"rid": rid, "ev": "started", "pid": self.proc.pid})

    def _stream(self, name, text):
        if self.budget.take(len(text.encode())):
            send({"rid": self.rid, "ev": name, "text": text})

    def reap(self):
        code = self.proc.poll()
        if code is None:
            return False
        # Output written before exit is in the pipes; whatever a background child
        # writes later has no reader (E2B and a shell behave the same way).
        self.out.drain()
        self.err.drain()
        self.out.close()
        self.err.close()
        if self.proc.stdin:
            self.proc.stdin.close()
        exit_code = code if code >= 0 else 128 - code
        send({"rid": self.rid, "ev": "exit", "exitCode": exit_code, "signal": -code if code < 0 else None,
              "truncated": self.budget.truncated})
        return True


contexts = {}
commands = {}
children = {}  # pid -> Popen, so the pid-1 reaper can hand exit statuses back


def reap_children():
    """The agent is PID 1 of the sandbox: reap every child, orphans included."""
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        proc = children.pop(pid, None)
        if proc is not None and proc.returncode is None:
            proc.returncode = os.waitstatus_to_exitcode(status)
writes = {}  # rid -> open file object for fs.write uploads in progress


def resolve(path):
    if not isinstance(path, str) or "\0" in path or path == "":
        raise ValueError("invalid path")
    return os.path.normpath(os.path.join("/home/user", path))


def entry(path, name):
    full = os.path.join(path, name)
    st = os.lstat(full)
    kind = "dir" if stat.S_ISDIR(st.st_mode) else "symlink" if stat.S_ISLNK(st.st_mode) else "file"
    return {"name": name, "path": full, "type": kind, "size": st.st_size, "mode": stat.S_IMODE(st.st_mode),
            "mtime": st.st_mtime}


def fs_op(msg):
    op, rid = msg["op"], msg["rid"]
    path = resolve(msg.get("path"))
    if op == "fs.list":
        names = sorted(os.listdir(path))
        send({"rid": rid, "ev": "ok", "entries": [entry(path, n) for n in names]})
    elif op == "fs.stat":
        st = entry(os.path.dirname(path), os.path.basename(path)) if path != "/" else entry("/", ".")
        send({"rid": rid, "ev": "ok", "entry": st})
    elif op == "fs.read":
        size = 0
        with open(path, "rb") as f:
            while True:
                chunk = f.read(FILE_CHUNK)
                if not chunk:
                    break
                size += len(chunk)
                send({"rid": rid, "ev": "chunk", "data": base64.b64encode(chunk).decode()})
        send({"rid": rid, "ev": "ok", "size": size})
    elif op == "fs.write":
        parent = os.path.dirname(path)
        os.makedirs(parent, exist_ok=True)
        writes[rid] = (open(path, "wb"), path)
    elif op == "fs.mkdir":
        os.makedirs(path, exist_ok=True)
        send({"rid": rid, "ev": "ok", "entry": entry(os.path.dirname(path), os.path.basename(path))})
    elif op == "fs.remove":
        st = os.lstat(path)
        if stat.S_ISDIR(st.st_mode):
            import shutil

            shutil.rmtree(path)
        else:
            os.unlink(path)
        send({"rid": rid, "ev": "ok"})
    elif op == "fs.rename":
        dest = resolve(msg.get("dest"))
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        os.rename(path, dest)
        send({"rid": rid, "ev": "ok", "entry": entry(os.path.dirname(dest), os.path.basename(dest))})


def fs_chunk(msg):
    f, _ = writes[msg["target"]]
    f.write(base64.b64decode(msg["data"]))


def fs_end(msg):
    f, path = writes.pop(msg["target"])
    size = f.tell()
    f.close()
    send({"rid": msg["target"], "ev": "ok", "size": size, "path": path})


def base_env(extra):
    env = {k: v for k, v in os.environ.items()}
    for k, v in (extra or {}).items():
        if isinstance(k, str) and isinstance(v, str) and "\0" not in k + v and "=" not in k and k:
            env[k] = v
    return env


def handle(msg):
    op, rid = msg.get("op"), msg.get("rid")
    try:
        if op == "ctx.start":
            k = Kernel(msg["ctx"], msg["language"], resolve(msg.get("cwd") or "/home/user"),
                       base_env(dict(msg.get("env") or {}, **({"CODEINT_PRELOAD": "1"} if msg.get("preload") else {}))))
            k.ready_rid = rid
            contexts[msg["ctx"]] = k
        elif op == "ctx.stop":
            k = contexts.get(msg["ctx"])
            if k:
                k.stop()
            send({"rid": rid, "ev": "ok"})
        elif op == "exec":
            k = contexts.get(msg["ctx"])
            if k is None:
                raise LookupError("no such context: %s" % msg["ctx"])
            k.execute(rid, msg["code"], msg.get("env") or {}, int(msg.get("maxOutput", 10485760)))
        elif op == "interrupt":
            k = contexts.get(msg["ctx"])
            if k:
                k.interrupt()
            send({"rid": rid, "ev": "ok"})
        elif op == "cmd":
            commands[rid] = Command(rid, msg["cmd"], resolve(msg.get("cwd") or "/home/user"),
                                    base_env(msg.get("env")), int(msg.get("maxOutput", 10485760)),
                                    bool(msg.get("stdin")))
        elif op == "signal":
            c = commands.get(msg["target"])
            if c:
                try:
                    os.killpg(c.proc.pid, int(msg.get("signal", signal.SIGKILL)))
                except ProcessLookupError:
                    pass
            send({"rid": rid, "ev": "ok"})
        elif op == "stdin":
            c = commands.get(msg["target"])
            if c and c.proc.stdin:
                c.proc.stdin.write(base64.b64decode(msg.get("data", "")))
                c.proc.stdin.flush()
            send({"rid": rid, "ev": "ok"})
        elif op == "stdin.close":
            c = commands.get(msg["target"])
            if c and c.proc.stdin:
                c.proc.stdin.close()
                c.proc.stdin = None
            send({"rid": rid, "ev": "ok"})
        elif op == "fs.chunk":
            fs_chunk(msg)
        elif op == "fs.end":
            fs_end(msg)
        elif op and op.startswith("fs."):
            fs_op(msg)
        elif op == "ping":
            send({"rid": rid, "ev": "ok"})
        else:
            raise ValueError("unknown op: %r" % op)
    except OSError as e:
        code = {2: "ENOENT", 13: "EACCES", 17: "EEXIST", 20: "ENOTDIR", 21: "EISDIR", 28: "ENOSPC",
                39: "ENOTEMPTY", 122: "EDQUOT", 36: "ENAMETOOLONG"}.get(e.errno, "EIO")
        target = msg.get("target", rid) if op in ("fs.chunk", "fs.end") else rid
        writes.pop(target, None)
        send({"rid": target, "ev": "fail", "code": code, "message": e.strerror or str(e)})
    except Exception as e:  # a bad request must never take the agent down
        target = msg.get("target", rid) if op in ("fs.chunk", "fs.end") else rid
        writes.pop(target, None)
        send({"rid": target, "ev": "fail", "code": "EINVAL", "message": str(e)})


def main():
    harden()
    os.chdir("/home/user")
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    sel.register(wake_r, selectors.EVENT_READ, "wake")
    stdin_fd = sys.stdin.fileno()
    sel.register(stdin_fd, selectors.EVENT_READ, "host")
    buf = b""
    send({"ev": "hello", "pid": os.getpid()})
    while True:
        ready = sel.select(PARTIAL_FLUSH if partials else None)
        if not ready:
            for stream in list(partials):
                stream.flush()
        for key, _ in ready:
            owner = key.data
            if owner == "host":
                data = os.read(stdin_fd, 1 << 20)
                if not data:
                    for k in list(contexts.values()):
                        k.stop()
                    return
                buf += data
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    try:
                        msg = json.loads(line)
                    except ValueError:
                        continue
                    if isinstance(msg, dict):
                        handle(msg)
            elif owner == "wake":
                try:
                    while os.read(wake_r, 512):
                        pass
                except BlockingIOError:
                    pass
            else:
                owner.pump()
        reap_children()
        for rid in [rid for rid, c in commands.items() if c.reap()]:
            del commands[rid]
        for k in list(contexts.values()):
            if k.proc.poll() is not None:
                k.reap()


if __name__ == "__main__":
    main()
