import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { HOST_PYTHON } from './host.js';
import type { JupyterServer } from './jupyter.js';

/** The same `1+1` sent straight to an ipykernel over ZMQ with jupyter_client: no server, no WebSocket. */
const DIRECT_SCRIPT = `
import json, sys, time
from jupyter_client.manager import start_new_kernel
km, kc = start_new_kernel(kernel_name="python3")
try:
    times = []
    for i in range(int(sys.argv[1]) + 20):
        t = time.perf_counter()
        msg_id = kc.execute("1+1")
        while True:
            reply = kc.get_shell_msg(timeout=30)
            if reply["parent_header"].get("msg_id") == msg_id:
                break
        if i >= 20:
            times.append((time.perf_counter() - t) * 1000)
    print(json.dumps(times), flush=True)
finally:
    kc.stop_channels()
    km.shutdown_kernel(now=True)
`;

export async function jupyterKernelDirect(server: JupyterServer, samples: number): Promise<number[]> {
  const { stdout } = await promisify(execFile)(HOST_PYTHON, ['-c', DIRECT_SCRIPT, String(samples)], {
    cwd: server.runtimeDir,
    timeout: 120_000,
    env: {
      PATH: '/usr/bin:/bin',
      HOME: server.runtimeDir,
      LANG: 'C.UTF-8',
      JUPYTER_RUNTIME_DIR: server.runtimeDir,
      PYDEVD_DISABLE_FILE_VALIDATION: '1',
    },
  });
  return JSON.parse(stdout.trim().split('\n')[0]!) as number[];
}
