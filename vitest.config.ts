import { defineConfig } from "vitest/config";

/**
 * The JetStream tests start nats-server processes (a 3-node cluster among them) that
 * take a good share of a 2-core machine; run alongside the timing-sensitive producer and
 * WAL tests they starved them. So they form a group of their own that runs after the rest.
 */
const JETSTREAM = ["test/jetstream*.test.ts", "test/drivers/jetstream.test.ts"];

// Tests import the compiled package from dist/ (built by `pretest`), because the
// worker threads the producer starts can only load plain JavaScript.
export default defineConfig({
  test: {
    // The JSON report lets .ci/run print a plain "N passed, N failed" closing line.
    reporters: ["default", ["json", { outputFile: ".tmp/vitest-results.json" }]],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // The compiled package is plain JavaScript: load it with Node as it is, not through
    // Vite's transform (about half the suite's start-up time).
    server: { deps: { external: [/\/dist\//] } },
    pool: "forks",
    poolOptions: { forks: { singleFork: false, maxForks: 2 } },
    projects: [
      { extends: true, test: { name: "tributary", include: ["test/**/*.test.ts"], exclude: JETSTREAM, sequence: { groupOrder: 0 } } },
      { extends: true, test: { name: "jetstream", include: JETSTREAM, sequence: { groupOrder: 1 } } },
    ],
  },
});
