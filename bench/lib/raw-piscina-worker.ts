/**
 * The raw-Piscina baseline of the parallel scenario: one task = one chunk of events;
 * each event gets the same per-event cost as tributary's cost validator, then JSON
 * serialization into one transferred buffer, as tributary's workers do, and nothing else.
 */
import { move } from "piscina";
import { CostValidator } from "../plugins/cost-validator.js";

const validator = new CostValidator();
const encoder = new TextEncoder();

export default function runChunk(events: unknown[]): Uint8Array {
  const texts: string[] = new Array(events.length);
  let bytes = 0;
  for (let i = 0; i < events.length; i++) {
    validator.validate(events[i]);
    const text = JSON.stringify(events[i]);
    texts[i] = text;
    bytes += text.length * 3;
  }
  const out = new Uint8Array(bytes);
  let at = 0;
  for (const text of texts) at += encoder.encodeInto(text, out.subarray(at)).written;
  return move(out.subarray(0, at)) as unknown as Uint8Array;
}
