// The JetStream reader's ordering rule: contiguous sequences only, repeats dropped, a skip
// after the first message reported (the reader then re-creates its consumer).
import { describe, expect, it } from "vitest";
import { SequenceGate } from "../../dist/src/drivers/jetstream/sequence-gate.js";

describe("SequenceGate", () => {
  it("takes contiguous sequences and drops repeats", () => {
    const gate = new SequenceGate(5);
    expect([5, 6, 6, 4, 7].map((s) => gate.admit(s))).toEqual(["take", "take", "repeat", "repeat", "take"]);
    expect(gate.next).toBe(8);
  });

  it("reports a skip after the first message, and leaves next at the first missing one", () => {
    const gate = new SequenceGate(1001);
    expect(gate.admit(1001)).toBe("take");
    expect(gate.admit(1890)).toBe("skip");
    expect(gate.next).toBe(1002);
    // The skipped message was not taken: a repeat of the last one is still a repeat.
    expect(gate.admit(1001)).toBe("repeat");
  });

  it("lets the first message of a new consumer lie past the expected one (head removed)", () => {
    const gate = new SequenceGate(1);
    expect(gate.admit(40)).toBe("take");
    expect(gate.admit(42)).toBe("skip");
  });

  it("starts from the first message when reading from a time", () => {
    const gate = new SequenceGate(undefined);
    expect(gate.next).toBeUndefined();
    expect(gate.admit(17)).toBe("take");
    expect(gate.admit(18)).toBe("take");
    expect(gate.admit(20)).toBe("skip");
  });
});
