/** The partition-manager broker: in-process start, storage options, limits. */
export { startBroker, isLoopback, exposureProblem, type StartBrokerOptions, type RunningBroker, type ServerTlsOptions } from "./server.js";
export { Broker, type BrokerOptions } from "./broker.js";
export { DEFAULT_LIMITS, STORAGE_DEFAULTS, type BrokerLimits, type FsyncPolicy } from "./limits.js";
export { loadAuthFile, type AuthConfig, type TokenEntry, type Role } from "./auth.js";
export type { BrokerLogger } from "./logger.js";
export type { StorageIO } from "./storage-io.js";
export { nodeStorageIO } from "./storage-io.js";
