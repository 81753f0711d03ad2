import { afterEach, describe, expect, it } from "vitest";
import { CursorCommitter } from "../../dist/src/consumer/cursor-committer.js";
import { ClosedError } from "../../dist/src/core/errors.js";
import { deferred, drainMicrotasks, prng, track, type Deferred } from "./support.js";

/** A fake commit RPC: records each call and lets the test answer it. */
function fakeCommit() {
  const calls: { partition: number; offset: number; answer: Deferred<void> }[] = [];
  const commit = (partition: number, offset: number) => {
    const answer = deferred<void>();
    calls.push({ partition, offset, answer });
    return answer.promise;
  };
  return { calls, commit, list: () => calls.map((c) => `${c.partition}@${c.offset}`) };
}

const listeners: ((reason: unknown) => void)[] = [];
afterEach(() => {
  for (const l of listeners.splice(0)) process.off("unhandledRejection", l);
});

describe("CursorCommitter", () => {
  it("coalesces: one commit in flight per partition, the acks meanwhile share the next one", async () => {
    const { calls, commit, list } = fakeCommit();
    const c = new CursorCommitter(commit);
    const a5 = track(c.acknowledge(0, 5));
    const a7 = track(c.acknowledge(0, 7));
    const a9 = track(c.acknowledge(0, 9));
    expect(list()).toEqual(["0@5"]);
    calls[0]!.answer.resolve();
    await drainMicrotasks();
    expect(a5.state).toBe("resolved");
    // 7 and 9 are not covered by the commit of 5: they wait for the next one, which stores 9.
    expect(a7.state).toBe("pending");
    expect(a9.state).toBe("pending");
    expect(list()).toEqual(["0@5", "0@9"]);
    calls[1]!.answer.resolve();
    await drainMicrotasks();
    expect([a7.state, a9.state]).toEqual(["resolved", "resolved"]);
    expect(calls).toHaveLength(2);
  });

  it("commits partitions independently, each with its own commit in flight", async () => {
    const { calls, commit, list } = fakeCommit();
    const c = new CursorCommitter(commit);
    const p0 = track(c.acknowledge(0, 3));
    const p1 = track(c.acknowledge(1, 8));
    expect(list()).toEqual(["0@3", "1@8"]);
    calls[1]!.answer.resolve();
    await drainMicrotasks();
    expect([p0.state, p1.state]).toEqual(["pending", "resolved"]);
    calls[0]!.answer.resolve();
    await drainMicrotasks();
    expect(p0.state).toBe("resolved");
  });

  it("never moves a cursor back", async () => {
    const { calls, commit, list } = fakeCommit();
    const c = new CursorCommitter(commit);
    const a10 = track(c.acknowledge(0, 10));
    const a4 = track(c.acknowledge(0, 4)); // arrives during the commit of 10: covered by it
    calls[0]!.answer.resolve();
    await drainMicrotasks();
    expect([a10.state, a4.state]).toEqual(["resolved", "resolved"]);
    const late = track(c.acknowledge(0, 6)); // below the committed cursor: nothing to do
    await drainMicrotasks();
    expect(late.state).toBe("resolved");
    expect(list()).toEqual(["0@10"]);
  });

  it("property: commits per partition never decrease and each ack resolves only after a commit >= its offset", async () => {
    const random = prng(42);
    const { calls, commit } = fakeCommit();
    const c = new CursorCommitter(commit);
    const acks: { partition: number; offset: number; settledBy: number | undefined }[] = [];
    const answered = new Set<number>();
    const highestAnswered = new Map<number, number>();
    const answer = (i: number) => {
      const call = calls[i]!;
      highestAnswered.set(call.partition, Math.max(highestAnswered.get(call.partition) ?? -1, call.offset));
      answered.add(i);
      call.answer.resolve();
    };
    for (let step = 0; step < 400; step++) {
      const open = calls.map((_, i) => i).filter((i) => !answered.has(i));
      if (random() < 0.6 || open.length === 0) {
        const partition = Math.floor(random() * 3);
        // Rising on the whole, with acks out of order and some below what is committed.
        const offset = Math.max(0, step * 3 + Math.floor(random() * 200) - 100);
        const entry = { partition, offset, settledBy: undefined as number | undefined };
        acks.push(entry);
        c.acknowledge(partition, offset).then(() => (entry.settledBy = highestAnswered.get(partition) ?? -1));
      } else {
        // At most one commit per partition is open: answer one of them, in any partition order.
        expect(new Set(open.map((i) => calls[i]!.partition)).size).toBe(open.length);
        answer(open[Math.floor(random() * open.length)]!);
      }
      await drainMicrotasks();
    }
    for (let open = calls.findIndex((_, i) => !answered.has(i)); open >= 0; open = calls.findIndex((_, i) => !answered.has(i))) {
      answer(open);
      await drainMicrotasks();
    }
    expect(calls.length).toBeGreaterThan(20);
    for (const p of [0, 1, 2]) {
      const offsets = calls.filter((x) => x.partition === p).map((x) => x.offset);
      expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
    }
    for (const a of acks) {
      expect(a.settledBy, `ack ${a.partition}@${a.offset}`).toBeDefined();
      expect(a.settledBy!).toBeGreaterThanOrEqual(a.offset);
    }
  });

  it("rejects the acks a commit covered with that commit's error; later acks get the next commit", async () => {
    const { calls, commit, list } = fakeCommit();
    const c = new CursorCommitter(commit);
    const a5 = track(c.acknowledge(0, 5));
    const a5b = track(c.acknowledge(0, 5));
    const a8 = track(c.acknowledge(0, 8));
    const boom = new Error("broker down");
    calls[0]!.answer.reject(boom);
    await drainMicrotasks();
    expect([a5.state, a5b.state]).toEqual(["rejected", "rejected"]);
    expect(a5.error).toBe(boom);
    expect(a5b.error).toBe(boom);
    expect(a8.state).toBe("pending");
    expect(list()).toEqual(["0@5", "0@8"]);
    calls[1]!.answer.resolve();
    await drainMicrotasks();
    expect(a8.state).toBe("resolved");
    // A failed commit did not count as committed: acking 5 again commits again.
    const again = track(c.acknowledge(0, 5));
    expect(list()).toEqual(["0@5", "0@8"]);
    await drainMicrotasks();
    expect(again.state).toBe("resolved"); // 8 is committed now, and 5 <= 8
  });

  it("after a failed commit, an ack commits the highest cursor asked for", async () => {
    const { calls, commit, list } = fakeCommit();
    const c = new CursorCommitter(commit);
    const a9 = track(c.acknowledge(0, 9));
    calls[0]!.answer.reject(new Error("no"));
    await drainMicrotasks();
    expect(a9.state).toBe("rejected");
    const a3 = track(c.acknowledge(0, 3));
    expect(list()).toEqual(["0@9", "0@9"]);
    calls[1]!.answer.resolve();
    await drainMicrotasks();
    expect(a3.state).toBe("resolved");
  });

  it("close() waits for the commits under way, never rejects, and later acks reject with ClosedError", async () => {
    const { calls, commit } = fakeCommit();
    const c = new CursorCommitter(commit);
    const a = track(c.acknowledge(0, 4));
    const b = track(c.acknowledge(1, 2));
    const closing = track(c.close());
    await drainMicrotasks();
    expect(closing.state).toBe("pending");
    calls[0]!.answer.resolve();
    await drainMicrotasks();
    expect(closing.state).toBe("pending");
    calls[1]!.answer.reject(new Error("commit failed"));
    await drainMicrotasks();
    expect(closing.state).toBe("resolved");
    expect([a.state, b.state]).toEqual(["resolved", "rejected"]);
    await expect(c.acknowledge(0, 10)).rejects.toBeInstanceOf(ClosedError);
    await expect(c.acknowledge(0, 10)).rejects.toMatchObject({ code: "CLOSED", retriable: false });
    expect(calls).toHaveLength(2);
  });

  it("returns pre-handled promises: failed acks nobody awaits raise no unhandledRejection", async () => {
    const unhandled: unknown[] = [];
    const listener = (reason: unknown) => unhandled.push(reason);
    listeners.push(listener);
    process.on("unhandledRejection", listener);
    const { calls, commit } = fakeCommit();
    const c = new CursorCommitter(commit);
    c.acknowledge(0, 1); // fire and forget
    c.acknowledge(0, 2);
    calls[0]!.answer.reject(new Error("commit 1 failed"));
    await drainMicrotasks();
    calls[1]!.answer.reject(new Error("commit 2 failed"));
    await c.close();
    c.acknowledge(0, 3); // rejects with ClosedError, not awaited either
    // unhandledRejection is emitted after the microtask queue drains: give it a few turns.
    for (let i = 0; i < 3; i++) await new Promise((r) => setTimeout(r, 5));
    expect(unhandled).toEqual([]);
  });
});
