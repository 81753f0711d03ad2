/** A partition stream's state, as the appender's resync and the reader ask for it. */
import type { JetStreamManager } from "@nats-io/jetstream";
import { BrokerError } from "../../core/errors.js";
import { apiCode, JS_ERR, natsError } from "./errors.js";

/** The stream's last sequence (= the partition's next event ID); UNKNOWN_TOPIC once it is gone. */
export async function lastSequence(jsm: JetStreamManager, stream: string, topic: string): Promise<number> {
  try {
    return (await jsm.streams.info(stream)).state.last_seq;
  } catch (err) {
    if (apiCode(err) === JS_ERR.streamNotFound) {
      throw new BrokerError("UNKNOWN_TOPIC", `topic '${topic}' does not exist on JetStream (no stream ${stream})`, { cause: err });
    }
    throw natsError(err, `reading the state of ${stream}`);
  }
}
