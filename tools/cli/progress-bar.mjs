// A one-line progress bar on a terminal (redrawn in place), or a line per update when the output is
// not a terminal (CI logs, pipes), at most every two seconds.
const WIDTH = 30;

export class ProgressBar {
  constructor(total, output = process.stderr) {
    this.total = total;
    this.output = output;
    this.started = performance.now();
    this.lastLine = 0;
  }

  line(done, { created, skipped, rejected }) {
    const ratio = this.total === 0 ? 1 : done / this.total;
    const filled = Math.round(ratio * WIDTH);
    const seconds = (performance.now() - this.started) / 1000;
    const rate = seconds > 0 ? Math.round(done / seconds) : 0;
    const bar = `${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}`;
    return `[${bar}] ${String(Math.floor(ratio * 100)).padStart(3)}% ${done}/${this.total} rows · ${rate} rows/s · created ${created} skipped ${skipped} rejected ${rejected}`;
  }

  update(done, counts) {
    if (this.output.isTTY) {
      this.output.write(`\r${this.line(done, counts)}`);
    } else if (performance.now() - this.lastLine > 2000 || done === this.total) {
      this.lastLine = performance.now();
      this.output.write(`${this.line(done, counts)}\n`);
    }
  }

  done(counts) {
    if (this.output.isTTY) this.output.write(`\r${this.line(this.total, counts)}\n`);
  }
}
