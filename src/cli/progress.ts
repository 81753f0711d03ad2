/** A progress line on stderr: redrawn in place on a terminal, every 10% otherwise. */
export class Progress {
  private readonly start = performance.now();
  private lastDraw = 0;
  private lastDecile = -1;
  private readonly tty = process.stderr.isTTY === true;

  constructor(private readonly label: string, private readonly total: number, private readonly unit = "events") {}

  update(done: number): void {
    const now = performance.now();
    const decile = Math.floor((done / this.total) * 10);
    if (this.tty ? now - this.lastDraw < 100 && done < this.total : decile === this.lastDecile) return;
    this.lastDraw = now;
    this.lastDecile = decile;
    const fraction = this.total > 0 ? done / this.total : 1;
    const width = 30;
    const filled = Math.round(fraction * width);
    const rate = done / ((now - this.start) / 1000);
    const line = `${this.label} [${"#".repeat(filled)}${"-".repeat(width - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}% ${done.toLocaleString("en-US")}/${this.total.toLocaleString("en-US")} ${this.unit}, ${Math.round(rate).toLocaleString("en-US")}/s`;
    process.stderr.write(this.tty ? `\r${line}` : `${line}\n`);
  }

  done(): void {
    this.update(this.total);
    if (this.tty) process.stderr.write("\n");
  }
}
