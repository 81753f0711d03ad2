/** Driver module of the tributary broker (`tributary://host:port`), loaded by the registry. */
import type { DriverConnectOptions, LogDriver } from "../contract.js";
import { TributaryDriver } from "./driver.js";

export function connect(url: string, options: DriverConnectOptions = {}): Promise<LogDriver> {
  return TributaryDriver.connect(url, options);
}
