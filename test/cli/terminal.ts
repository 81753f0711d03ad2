/**
 * A tiny terminal for tests: a TTY-like stream that keeps a screen, interpreting what
 * progress bars write (text, \r, \n, cursor moves, line and screen clears, DEC auto-wrap
 * on/off). Enough to see whether a status line stays one line or stacks up.
 */
import { Writable } from "node:stream";

export class FakeTerminal extends Writable {
  readonly isTTY = true;
  rows: string[][] = [[]];
  row = 0;
  col = 0;
  wrap = true;
  raw = "";

  constructor(public columns: number) {
    super({ decodeStrings: false });
  }

  override _write(chunk: Buffer | string, _enc: BufferEncoding, done: () => void): void {
    const text = chunk.toString();
    this.raw += text;
    this.feed(text);
    done();
  }

  /** Rows with anything but spaces on them. */
  get lines(): string[] {
    return this.rows.map((r) => r.join("").trimEnd()).filter((r) => r !== "");
  }

  private line(): string[] {
    while (this.rows.length <= this.row) this.rows.push([]);
    return this.rows[this.row]!;
  }

  private feed(text: string): void {
    for (let i = 0; i < text.length; i++) {
      const ch = text[i]!;
      if (ch === "\x1b") {
        const csi = /^\x1b\[(\??)(\d*)(?:;(\d*))?([A-Za-z])/.exec(text.slice(i));
        if (csi) {
          this.control(csi[1]!, csi[2] === "" ? undefined : Number(csi[2]), csi[4]!);
          i += csi[0].length - 1;
        } else i += 1; // ESC 7 / ESC 8: cursor save/restore, not needed here
        continue;
      }
      if (ch === "\r") this.col = 0;
      else if (ch === "\n") {
        this.row++;
        this.col = 0;
        this.line();
      } else {
        if (this.col >= this.columns) {
          if (this.wrap) {
            this.row++;
            this.col = 0;
          } else this.col = this.columns - 1;
        }
        const line = this.line();
        while (line.length < this.col) line.push(" ");
        line[this.col++] = ch;
      }
    }
  }

  private control(priv: string, n: number | undefined, op: string): void {
    const line = this.line();
    if (priv === "?") {
      if (n === 7) this.wrap = op === "h";
      return;
    }
    switch (op) {
      case "G":
        this.col = (n ?? 1) - 1;
        break;
      case "A":
        this.row = Math.max(0, this.row - (n ?? 1));
        break;
      case "B":
        this.row += n ?? 1;
        break;
      case "C":
        this.col += n ?? 1;
        break;
      case "D":
        this.col = Math.max(0, this.col - (n ?? 1));
        break;
      case "K":
        if (n === 2) line.length = 0;
        else if (n === 1) for (let c = 0; c <= this.col && c < line.length; c++) line[c] = " ";
        else line.length = Math.min(line.length, this.col);
        break;
      case "J":
        line.length = Math.min(line.length, this.col);
        this.rows.length = this.row + 1;
        break;
    }
  }
}
