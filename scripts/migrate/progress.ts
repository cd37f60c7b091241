/**
 * Progress on stderr: a redrawn bar on a terminal; otherwise one line at most every
 * `LINE_INTERVAL_MS` (logs and tests read these), always a final line.
 */
const WIDTH = 28;
const REDRAW_MS = 100;
const LINE_INTERVAL_MS = 500;

export class Progress {
  private done = 0;
  private bytes = 0;
  private lastDraw = 0;
  private readonly tty = Boolean(process.stderr.isTTY);
  private readonly started = Date.now();

  constructor(
    private readonly label: string,
    private readonly total: number,
  ) {}

  tick(items: number, bytes = 0): void {
    this.done += items;
    this.bytes += bytes;
    const now = Date.now();
    if (now - this.lastDraw >= (this.tty ? REDRAW_MS : LINE_INTERVAL_MS)) {
      this.lastDraw = now;
      this.draw(false);
    }
  }

  finish(): void {
    this.draw(true);
  }

  private draw(final: boolean): void {
    const ratio = this.total === 0 ? 1 : Math.min(1, this.done / this.total);
    const filled = Math.round(ratio * WIDTH);
    const bar = `[${"#".repeat(filled)}${".".repeat(WIDTH - filled)}]`;
    const secs = ((Date.now() - this.started) / 1000).toFixed(1);
    const line = `${this.label} ${bar} ${String(Math.round(ratio * 100)).padStart(3)}% ${this.done}/${this.total}  ${formatBytes(this.bytes)}  ${secs}s`;
    if (this.tty) process.stderr.write(`\r${line}${final ? "\n" : ""}`);
    else process.stderr.write(`${line}\n`);
  }
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}
