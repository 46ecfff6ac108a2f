/** A one-line progress bar on stderr, shown only when stderr is a terminal. */

/** Progress over `total` nodes; `tick` after each finishes, `done` to clear the line. */
export function createProgress(total: number, enabled: boolean): { tick: (label: string) => void; done: () => void } {
  const tty = enabled && Boolean(process.stderr.isTTY) && total > 0;
  let count = 0;
  const draw = (label: string) => {
    const width = 30;
    const filled = Math.round((count / total) * width);
    process.stderr.write(`\r[${'='.repeat(filled)}${' '.repeat(width - filled)}] ${count}/${total} ${label}`.slice(0, (process.stderr.columns ?? 80) - 1) + '\x1b[K');
  };
  return {
    tick: (label) => {
      count++;
      if (tty) draw(label);
    },
    done: () => {
      if (tty) process.stderr.write('\r\x1b[K');
    },
  };
}
