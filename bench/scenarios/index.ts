/**
 * The scenario registry: `npm run bench` runs these in this order, and `--scenario NAME`
 * picks among them. Add a new scenario by importing it here and appending it to the array.
 */
import type { Scenario } from "../lib/scenario.js";
import { selftest } from "./demo.js";
import { ordering } from "./ordering.js";
import { overhead } from "./overhead.js";
import { batching } from "./batching.js";
import { peers } from "./peers.js";
import { memory } from "./memory.js";
import { flush } from "./flush.js";
import { broker } from "./broker.js";
import { durable } from "./durable.js";
import { parallel } from "./parallel.js";
import { floor } from "./floor.js";
import { many } from "./many.js";
import { consume } from "./consume.js";

/** Every benchmark scenario, in run order (selftest checks the runner itself and is quick). */
export const scenarios: Scenario[] = [
  ordering as Scenario,
  parallel as Scenario,
  floor as Scenario,
  many as Scenario,
  overhead as Scenario,
  batching as Scenario,
  peers as Scenario,
  memory as Scenario,
  flush as Scenario,
  durable as Scenario,
  consume as Scenario,
  broker as Scenario,
  selftest,
];
