import { defineConfig } from "vitest/config";

/** Unit tests of the web app's pure parts (stream following, event folding, markdown). Node environment: no DOM needed. */
export default defineConfig({
  test: {
    include: ["src/**/*.test.{ts,tsx}"],
    environment: "node",
    root: import.meta.dirname,
    setupFiles: ["../../vitest.setup.ts"],
  },
});
