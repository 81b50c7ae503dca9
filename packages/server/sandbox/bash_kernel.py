"""Bash kernel: one long-lived bash per context, so cwd, variables and functions persist.

Speaks docs/kernel-protocol.md. Requests arrive on fd 3 as JSON; each becomes one
line of bash that evals the (base64-carried) code and reports its exit status on
fd 4, which bash inherits. Output goes straight from bash to fds 1/2.
"""

import base64
import json
import os
import re
import signal
import subprocess
import threading

SAFE_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")
SAFE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

# SIGINT interrupts the foreground command; the trap keeps bash itself alive.
PRELUDE = "trap ':' INT\n__ci_n=0\n"


def quote(s):
    return "'" + s.replace("'", "'\\''") + "'"


def line_for(req):
    rid = str(req.get("id", ""))
    if not SAFE_ID.match(rid):
        rid = "invalid"
    code = base64.b64encode(str(req.get("code", "")).encode()).decode()
    env = req.get("env") or {}
    # Per-execution variables are exported in a subshell-free way and unset afterwards.
    sets = "".join("export %s=%s; " % (k, quote(str(v))) for k, v in env.items() if SAFE_NAME.match(str(k)))
    unsets = "".join("unset %s; " % k for k in env if SAFE_NAME.match(str(k)))
    return (
        "%s__ci_code=\"$(printf %%s %s | base64 -d)\"; eval \"$__ci_code\" </dev/null; __ci_rc=$?; %s"
        "__ci_n=$((__ci_n+1)); "
        "if [ $__ci_rc -ne 0 ]; then printf '{\"type\":\"error\",\"id\":\"%s\",\"name\":\"BashError\","
        "\"value\":\"exit status %%d\",\"traceback\":\"\"}\\n' $__ci_rc >&4; fi; "
        "printf '{\"type\":\"done\",\"id\":\"%s\",\"executionCount\":%%d,\"exitCode\":%%d}\\n' $__ci_n $__ci_rc >&4\n"
        % (sets, code, unsets, rid, rid)
    )


def main():
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    bash = subprocess.Popen(
        ["/bin/bash", "--noprofile", "--norc"],
        stdin=subprocess.PIPE,
        pass_fds=(4,),
        restore_signals=True,
    )
    bash.stdin.write(PRELUDE.encode())
    bash.stdin.flush()
    os.write(4, b'{"type":"ready"}\n')
    os.close(4)  # only bash (and what it starts) holds the event pipe now
    # If bash exits (`exit` in a cell), leave too, so the agent resets the context.
    threading.Thread(target=lambda: (bash.wait(), os._exit(0)), daemon=True).start()
    with os.fdopen(3, "rb") as requests:
        for raw in requests:
            try:
                req = json.loads(raw)
            except ValueError:
                continue
            if req.get("type") != "execute":
                continue
            try:
                bash.stdin.write(line_for(req).encode())
                bash.stdin.flush()
            except BrokenPipeError:
                break  # bash exited (user ran `exit`); the agent sees us go and resets the context
    bash.kill()


if __name__ == "__main__":
    main()
