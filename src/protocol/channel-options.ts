/** gRPC channel options shared by the broker's server and the tributary driver's client. */

/** Largest gRPC message either side accepts (a batch plus framing). */
export const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

/** Server and client: batches up to the broker's limits fit in a message. */
export const GRPC_CHANNEL_OPTIONS = Object.freeze({
  "grpc.max_receive_message_length": MAX_MESSAGE_BYTES,
  "grpc.max_send_message_length": MAX_MESSAGE_BYTES,
  // grpc-js caps an HTTP/2 session's buffered memory at 10 MiB by default; batches in flight exceed it.
  "grpc-node.max_session_memory": 1024,
});
