/** Where progress goes: stderr, so stdout stays the tables (pipeable). */
export interface ProgressStream {
  isTTY?: boolean;
  write(chunk: string): boolean;
}

export interface Progress {
  update(done: number): void;
  /** Prints the final state and ends the line. */
  finish(done: number): void;
}

const BAR_WIDTH = 30;

/**
 * A progress bar redrawn in place on a terminal; elsewhere (CI logs, pipes) plain lines — on a change
 * at most one every `intervalMs` (default 1 s), a heartbeat every 10 intervals, and the final one.
 */
export function createProgress(
  label: string,
  total: number,
  stream: ProgressStream = process.stderr,
  intervalMs = 1_000,
): Progress {
  const tty = stream.isTTY === true;
  let lastPrint = 0;
  let lastDone = -1;
  const percent = (done: number) => (total === 0 ? 100 : Math.floor((done / total) * 100));
  const render = (done: number) => {
    lastDone = done;
    if (tty) {
      const filled = total === 0 ? BAR_WIDTH : Math.round((done / total) * BAR_WIDTH);
      const bar = `${'█'.repeat(filled)}${'░'.repeat(BAR_WIDTH - filled)}`;
      stream.write(`\r${label} [${bar}] ${done}/${total} ${String(percent(done)).padStart(3)}%`);
    } else {
      stream.write(`${label}: ${done}/${total} (${percent(done)}%)\n`);
    }
  };
  return {
    update(done) {
      const now = Date.now();
      // Plain lines: on change at most every intervalMs, and a heartbeat every 10 intervals.
      const due = now - lastPrint >= intervalMs && (done !== lastDone || now - lastPrint >= 10 * intervalMs);
      if (tty || due) {
        lastPrint = now;
        render(done);
      }
    },
    finish(done) {
      if (tty) {
        render(done);
        stream.write('\n');
      } else if (done !== lastDone) {
        render(done);
      }
    },
  };
}
