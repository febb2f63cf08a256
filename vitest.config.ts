import { configDefaults, defineConfig } from "vitest/config";

/**
 * The chaos test (issue 13) fails on main until the lease, registry, vanish and route branches
 * are merged: left out of the default run until then. Run it with
 * CHAOS_TEST=1 npx vitest run e2e/chaos/chaos.test.ts, and delete this exclusion once it passes.
 */
const pendingChaos = process.env.CHAOS_TEST === "1" ? [] : ["e2e/chaos/chaos.test.ts"];

export default defineConfig({
  test: {
    exclude: [...configDefaults.exclude, ...pendingChaos],
    include: ["packages/*/src/**/*.test.ts", "scripts/**/*.test.ts", "deploy/**/*.test.ts", "gateway/src/**/*.test.ts", "platform/src/**/*.test.ts", "platform/web/src/**/*.test.{ts,tsx}", "e2e/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    setupFiles: ["./vitest.setup.ts"],
  },
});
