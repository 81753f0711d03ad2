/**
 * The driver's KV buckets (catalog, cursors): opened on first use, created by the first
 * topic, and raised to the replication factor of the most replicated topic so that the
 * catalog of an R3 topic survives what its partitions survive.
 */
import type { JetStreamManager } from "@nats-io/jetstream";
import { Kvm, type KV } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { apiCode, JS_ERR, natsError } from "./errors.js";

export class Bucket {
  private kv: KV | undefined;
  /** Replicas this driver already made sure of (saves a round trip per cursor commit). */
  private ensured = 0;

  constructor(
    private readonly nc: NatsConnection,
    private readonly jsm: JetStreamManager,
    readonly name: string,
  ) {}

  /** The bucket, or undefined when nothing created it yet. */
  async open(): Promise<KV | undefined> {
    if (this.kv) return this.kv;
    try {
      await this.jsm.streams.info(`KV_${this.name}`);
    } catch (err) {
      if (apiCode(err) === JS_ERR.streamNotFound) return undefined;
      throw natsError(err, `opening KV bucket ${this.name}`);
    }
    this.kv = await new Kvm(this.nc).open(this.name);
    return this.kv;
  }

  /** The bucket, created if missing, with at least `replicas` copies. */
  async ensure(replicas: number): Promise<KV> {
    if (this.kv && this.ensured >= replicas) return this.kv;
    const stream = `KV_${this.name}`;
    try {
      const info = await this.jsm.streams.info(stream).catch((err: unknown) => {
        if (apiCode(err) === JS_ERR.streamNotFound) return undefined;
        throw err;
      });
      if (info === undefined) {
        this.kv = await new Kvm(this.nc).create(this.name, { replicas, history: 1 });
      } else if (info.config.num_replicas < replicas) {
        await this.jsm.streams.update(stream, { ...info.config, num_replicas: replicas });
      }
    } catch (err) {
      throw natsError(err, `preparing KV bucket ${this.name} with ${replicas} replicas`);
    }
    this.kv ??= await new Kvm(this.nc).open(this.name);
    this.ensured = replicas;
    return this.kv;
  }
}
