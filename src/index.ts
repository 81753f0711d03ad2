/**
 * tributary: a worker-thread parallel event producer for Node.js, with an embedded
 * partition broker.
 * @packageDocumentation
 */
export { Driver, type TopicOptions, type EmbeddedOptions } from "./client/driver.js";
export { TopicHandle } from "./client/topic-handle.js";
export { ThreadPool, type ThreadPoolSize } from "./client/thread-pool.js";
export { EventFuture } from "./client/future.js";
export { Consumer, type ConsumerOptions, type ConsumedEvent, type StartPosition } from "./client/consumer.js";
export { Producer, type ProducerStats, type BulkEvent, type BulkAck } from "./producer/producer.js";
export type { ProducerOptions } from "./producer/options.js";
export { BatchSize, Ordering, type BatchSizeOption, type EventData, type EventID, type Metadata, type PushOptions } from "./client/types.js";
export {
  TributaryError,
  InvalidArgumentError,
  ValidationError,
  BrokerError,
  DeliveryTimeoutError,
  ClosedError,
  type BrokerErrorCode,
  type PipelineStage,
} from "./client/errors.js";
export type { Validator, PartitionSelector, Serializer, PluginSpec, PluginSpecInput, PipelineSpecs } from "./pipeline/contracts.js";
export { startBroker, type RunningBroker, type StartBrokerOptions } from "./broker/server.js";
