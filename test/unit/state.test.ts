import { describe, expect, it } from "vitest";
import { Lifecycle, type ProducerState } from "../../dist/src/producer/state.js";

const STATES: ProducerState[] = ["starting", "open", "broken", "closing", "closed"];

/** The diagram in src/producer/state.ts. */
const LEGAL = new Set([
  "starting>open",
  "starting>broken",
  "starting>closing",
  "open>broken",
  "open>closing",
  "broken>closing",
  "closing>closed",
]);

/** A lifecycle brought to `state` through legal steps. */
function at(state: ProducerState): Lifecycle {
  const path: Record<ProducerState, ProducerState[]> = {
    starting: [],
    open: ["open"],
    broken: ["broken"],
    closing: ["closing"],
    closed: ["closing", "closed"],
  };
  const l = new Lifecycle();
  for (const s of path[state]) l.to(s);
  expect(l.state).toBe(state);
  return l;
}

describe("Lifecycle", () => {
  it("starts in 'starting' and not closing", () => {
    const l = new Lifecycle();
    expect(l.state).toBe("starting");
    expect(l.closing).toBe(false);
  });

  it("walks the usual lives of a producer", () => {
    for (const path of [
      ["open", "closing", "closed"],
      ["broken", "closing", "closed"],
      ["open", "broken", "closing", "closed"],
      ["closing", "closed"],
    ] as ProducerState[][]) {
      const l = new Lifecycle();
      for (const s of path) {
        l.to(s);
        expect(l.state).toBe(s);
      }
    }
  });

  describe.each(STATES)("from %s", (from) => {
    it.each(STATES)(`to %s: to() and tryTo() follow the table`, (next) => {
      const legal = LEGAL.has(`${from}>${next}`);
      const a = at(from);
      if (legal) {
        a.to(next);
        expect(a.state).toBe(next);
      } else {
        expect(() => a.to(next)).toThrow(`producer state cannot go from ${from} to ${next}`);
        expect(a.state).toBe(from);
      }
      const b = at(from);
      expect(b.tryTo(next)).toBe(legal);
      expect(b.state).toBe(legal ? next : from);
    });
  });

  it("closing is true in closing and closed only", () => {
    expect(STATES.filter((s) => at(s).closing)).toEqual(["closing", "closed"]);
  });
});
