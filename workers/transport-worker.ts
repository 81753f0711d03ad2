/**
 * The transport thread: owns the connections to the log for every producer of the
 * process, one session each (src/transport/session.ts). Control calls (open, stats,
 * close) arrive through Comlink; each session's batches and acks travel on a
 * MessagePort of its own.
 */
import { parentPort } from "node:worker_threads";
import type { MessagePort } from "node:worker_threads";
import * as Comlink from "comlink";
import nodeEndpoint, { type NodeEndpoint } from "comlink/dist/esm/node-adapter.mjs";
import { Session } from "../src/transport/session.js";
import type { TransportConfig, TransportControl } from "../src/transport/messages.js";

const sessions = new Map<number, Session>();

const control: TransportControl = {
  async open(id: number, config: TransportConfig, port: MessagePort) {
    const { session, opened } = await Session.open(config, port, (message) => process.emitWarning(message, "TributaryWalWarning"));
    sessions.set(id, session);
    return opened;
  },
  stats(id: number) {
    return sessions.get(id)?.stats();
  },
  async close(id: number) {
    const session = sessions.get(id);
    sessions.delete(id);
    await session?.close();
  },
};

Comlink.expose(control, nodeEndpoint(parentPort as unknown as NodeEndpoint));
