import type { Runtime } from './runtimes.js';
import type { Sandbox } from './sandbox.js';

/**
 * Keeps `size` ready sandboxes per runtime (kernel started, common libraries
 * imported), so create is a hand-over. A pooled sandbox has never run anyone's
 * code: it is as fresh as a cold one. Refills one at a time in the background so
 * refilling never competes with user work for more than one core.
 */
export class WarmPool {
  private readonly ready = new Map<string, Sandbox[]>();
  private filling: Promise<void> | undefined;
  private stopped = false;
  lastError: Error | undefined;

  constructor(
    readonly size: number,
    private readonly runtimes: Runtime[],
    private readonly spawn: (runtime: Runtime) => Promise<Sandbox>,
  ) {
    for (const r of runtimes) this.ready.set(r.name, []);
  }

  /** Hands over a ready sandbox of this runtime, if one is there, and starts a refill. */
  take(runtime: string): Sandbox | undefined {
    const list = this.ready.get(runtime);
    const sandbox = list?.shift();
    // Refill after the caller's request is answered: spawning blocks the event loop
    // for a few ms (fork of a large process), which should not land on the hand-over.
    if (list) setTimeout(() => this.fill(), 25).unref();
    return sandbox;
  }

  fill(): void {
    if (this.stopped || this.filling || this.size <= 0) return;
    this.filling = this.loop().finally(() => (this.filling = undefined));
  }

  private async loop(): Promise<void> {
    for (;;) {
      const runtime = this.runtimes.find((r) => (this.ready.get(r.name)?.length ?? 0) < this.size);
      if (!runtime || this.stopped) return;
      try {
        const sandbox = await this.spawn(runtime);
        if (this.stopped) {
          await sandbox.destroy('stopped', 'pool drained');
          return;
        }
        this.ready.get(runtime.name)!.push(sandbox);
        this.lastError = undefined;
      } catch (e) {
        // Keep serving cold creates; try again later rather than spin.
        this.lastError = e as Error;
        await new Promise((r) => setTimeout(r, 5000).unref());
      }
    }
  }

  /** A pooled sandbox died on its own: drop it and make a new one. */
  forget(sandbox: Sandbox): void {
    const list = this.ready.get(sandbox.runtime.name);
    const i = list?.indexOf(sandbox) ?? -1;
    if (i >= 0) {
      list!.splice(i, 1);
      this.fill();
    }
  }

  counts(): Record<string, number> {
    return Object.fromEntries([...this.ready].map(([name, list]) => [name, list.length]));
  }

  /** Waits until every runtime has its ready sandboxes (used by tests and benchmarks). */
  async waitFull(): Promise<void> {
    while (!this.stopped && [...this.ready.values()].some((l) => l.length < this.size)) {
      this.fill();
      await this.filling;
      if (this.lastError) throw this.lastError;
    }
  }

  async drain(): Promise<void> {
    this.stopped = true;
    await this.filling;
    const all = [...this.ready.values()].flat();
    for (const list of this.ready.values()) list.length = 0;
    await Promise.all(all.map((s) => s.destroy('stopped', 'pool drained').catch(() => undefined)));
  }
}
