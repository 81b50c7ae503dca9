/**
 * A one-line spinner (with an optional progress text) on stderr, for the slow parts of
 * a command: creating a sandbox, uploading files. It draws `\r` frames only when
 * stderr is a terminal, and clears its line when stopped; elsewhere (pipes, CI, tests)
 * it writes nothing at all.
 */
const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export interface Progress {
  /** Replaces the text next to the spinner. */
  update(text: string): void;
  /** Stops the spinner and clears its line (idempotent). */
  stop(): void;
}

const silent: Progress = { update: () => undefined, stop: () => undefined };

/**
 * Starts a spinner with `text` on stderr. With `delayMs`, the first frame waits that
 * long, so that a step that ends quickly (a warm sandbox, a small file) draws nothing.
 */
export function startProgress(
  text: string,
  opts: { delayMs?: number; stream?: NodeJS.WriteStream } = {},
): Progress {
  const stream = opts.stream ?? process.stderr;
  if (!stream.isTTY) return silent;
  let frame = 0;
  let label = text;
  let stopped = false;
  let drawn = false;
  const draw = () => {
    drawn = true;
    const width = Math.max(10, (stream.columns || 80) - 3);
    const line = label.length > width ? `${label.slice(0, width - 1)}…` : label;
    stream.write(`\r\x1b[2K${FRAMES[frame++ % FRAMES.length]} ${line}`);
  };
  let timer: NodeJS.Timeout | undefined;
  const begin = () => {
    draw();
    timer = setInterval(draw, 80);
    timer.unref();
  };
  const delay = opts.delayMs ? setTimeout(begin, opts.delayMs) : undefined;
  delay?.unref();
  if (!delay) begin();
  return {
    update(next) {
      label = next;
    },
    stop() {
      if (stopped) return;
      stopped = true;
      clearTimeout(delay);
      clearInterval(timer);
      if (drawn) stream.write('\r\x1b[2K');
    },
  };
}

/** `1536` → `1.5 KB`. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}
