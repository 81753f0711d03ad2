import { defineConfig } from "vitest/config";

// Tests import the compiled package from dist/ (built by `pretest`), because the
// worker threads the producer starts can only load plain JavaScript.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // The JSON report lets .ci/run print a plain "N passed, N failed" closing line.
    reporters: ["default", ["json", { outputFile: ".tmp/vitest-results.json" }]],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // The compiled package is plain JavaScript: load it with Node as it is, not through
    // Vite's transform (about half the suite's start-up time).
    server: { deps: { external: [/\/dist\//] } },
    pool: "forks",
    poolOptions: { forks: { singleFork: false, maxForks: 2 } },
  },
});
