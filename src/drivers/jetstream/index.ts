/** Driver module of NATS JetStream (`nats://host:port[,host:port…]`), loaded by the registry. */
import type { LogDriver } from "../contract.js";
import { JetStreamDriver, type JetStreamDriverOptions } from "./driver.js";

export function connect(url: string, options: JetStreamDriverOptions = {}): Promise<LogDriver> {
  return JetStreamDriver.connect(url, options);
}
