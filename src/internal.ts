/**
 * `tributary/internal`: the parts behind the public API, for this package's tests,
 * benchmarks and drivers. Not covered by semver; applications import `tributary`.
 */
export * from "./index.js";
export { resolveFuture, rejectFuture, markDurable, isDurable } from "./core/future.js";
export { describe } from "./core/describe.js";
export * from "./core/records.js";
export * as protocol from "./protocol/protocol.js";
export type * from "./drivers/contract.js";
export { connectDriver, schemeOf, DRIVER_SCHEMES } from "./drivers/registry.js";
export { BrokerClient, parseBrokerUrl, appendError, AppendStream } from "./drivers/tributary/broker-client.js";
export { TributaryDriver, TRIBUTARY_CAPABILITIES } from "./drivers/tributary/driver.js";
export { TributaryAppender, createAppender } from "./drivers/tributary/appender.js";
export * from "./pipeline/index.js";
export { AutoPlacement } from "./pipeline/auto-placement.js";
export { Delivery, type DeliveryEvents } from "./transport/delivery.js";
export * from "./transport/messages.js";
export { Sequencer } from "./producer/sequencer.js";
export { PartitionBatcher, type BatchPolicy, type ReadyBatch } from "./producer/partition-batcher.js";
export { ChunkBuilder } from "./producer/chunk-builder.js";
export { FlushTracker } from "./producer/flush-tracker.js";
export { CapacityGate } from "./producer/capacity-gate.js";
export { InFlightTable } from "./producer/in-flight.js";
export { Lifecycle, type ProducerState } from "./producer/state.js";
export { PRODUCER_DEFAULTS, resolveProducerOptions } from "./producer/options.js";
export { CursorCommitter } from "./consumer/cursor-committer.js";
export { loadAppender } from "./transport/appender-loader.js";
export { WriteAheadLog, type WalBatch, type WalFsync } from "./transport/wal/wal.js";
export { claimWal, walDirOf, type WalMeta } from "./transport/wal/wal-claim.js";
export * from "./transport/wal/wal-format.js";
export { transportThreads, transportWorker } from "./transport/transport-host.js";
