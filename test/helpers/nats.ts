// nats-server processes for the JetStream tests: the benchmarks' helper (single node, or a
// 3-node cluster on free loopback ports), compiled to dist/ like everything tests import.
export * from "../../dist/bench/lib/nats-server.js";
