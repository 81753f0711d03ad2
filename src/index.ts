/**
 * tributary: a worker-thread parallel event producer for Node.js, into a partitioned,
 * durable log (the embedded tributary broker, or another log behind the driver contract).
 * @packageDocumentation
 */
export { Driver, type TopicOptions, type ConnectOptions, type EmbeddedOptions, type PluginOptions, type DriverCloseReport } from "./client/driver.js";
export { shutdownOnSignals, type ShutdownOptions, type ShutdownReport, type Closable } from "./client/shutdown.js";
export type { Logger } from "./core/logger.js";
export type { DeliveryCallback } from "./core/future.js";
export { TopicHandle } from "./client/topic-handle.js";
export { ThreadPool, type ThreadPoolSize } from "./pipeline/thread-pool.js";
export type { Placement } from "./pipeline/auto-placement.js";
export { EventFuture } from "./core/future.js";
export { Consumer, type ConsumerOptions, type ConsumedEvent } from "./consumer/consumer.js";
export {
  Producer,
  type ProducerStats,
  type TransportStats,
  type BulkEvent,
  type BulkAck,
  type FlushOptions,
  type CloseOptions,
  type CloseReport,
} from "./producer/producer.js";
export type { DeliveryListener, ErrorListener } from "./producer/settlement.js";
export type { ProducerOptions, WalOptions } from "./producer/options.js";
export {
  BatchSize,
  Ordering,
  type BatchSizeOption,
  type EventData,
  type EventID,
  type Metadata,
  type PushOptions,
  type StartPosition,
  type TopicDescription,
  type PipelineSpecs,
  type PluginSpec,
} from "./core/types.js";
export {
  TributaryError,
  InvalidArgumentError,
  ValidationError,
  BrokerError,
  DeliveryTimeoutError,
  ClosedError,
  MetadataDecodeError,
  type BrokerErrorCode,
  type PipelineStage,
  type TributaryErrorOptions,
} from "./core/errors.js";
export type { Validator, PartitionSelector, Serializer, PluginSpecInput } from "./pipeline/contracts.js";
export type { DriverCapabilities } from "./drivers/contract.js";
export type { TributaryConnectOptions } from "./drivers/tributary/options.js";
export type {
  /** What `listTopics()` and `describeTopic()` return (the same as {@link TopicDescription}). */
  TopicDescription as TopicInfo,
} from "./core/types.js";
