/** Exit codes of a command ended by a signal, as a shell reports them (128 + number). */
const EXIT_CODES: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 };
const SIGNALS = Object.keys(EXIT_CODES) as NodeJS.Signals[];

export interface Interrupt {
  /** Aborted on the first Ctrl-C (or SIGTERM / SIGHUP). */
  readonly signal: AbortSignal;
  /** The signal received, if any. */
  readonly received: NodeJS.Signals | undefined;
  /** The exit code for the signal received (130 for Ctrl-C). */
  readonly exitCode: number;
  /** Removes the handlers (the default behaviour of the signals returns). */
  dispose(): void;
}

/**
 * Catches Ctrl-C (and SIGTERM / SIGHUP) while a command holds a sandbox, so that it
 * can interrupt the execution and kill the sandbox before it ends: the first signal
 * aborts `signal`; a second one quits at once, leaving the sandbox to its idle timeout.
 */
export function catchInterrupts(what: string): Interrupt {
  const controller = new AbortController();
  let received: NodeJS.Signals | undefined;
  const handler = (sig: NodeJS.Signals) => {
    if (received) {
      process.stderr.write(`\ncodeint: quitting without waiting; ${what} may be left to its idle timeout\n`);
      // The user insisted: nothing else runs after this.
      process.exit(EXIT_CODES[sig] ?? 130);
    }
    received = sig;
    process.stderr.write(`\ncodeint: interrupted; stopping ${what} (Ctrl-C again to quit at once)\n`);
    controller.abort(new Error(`interrupted by ${sig}`));
  };
  for (const sig of SIGNALS) process.on(sig, handler);
  return {
    signal: controller.signal,
    get received() {
      return received;
    },
    get exitCode() {
      return received ? (EXIT_CODES[received] ?? 130) : 0;
    },
    dispose() {
      for (const sig of SIGNALS) process.off(sig, handler);
    },
  };
}
