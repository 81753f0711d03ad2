/** The partition-manager broker: in-process start, storage options, limits. */
export { startBroker, type StartBrokerOptions, type RunningBroker } from "./server.js";
export { Broker, type BrokerOptions } from "./broker.js";
export { DEFAULT_LIMITS, type BrokerLimits } from "./limits.js";
export type { FsyncPolicy } from "./partition-log.js";
