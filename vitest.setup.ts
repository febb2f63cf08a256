import { afterEach, vi } from "vitest";

/** House rule: a test fails on an unexpected console.error. Tests that expect one spy on it themselves. */
const originalError = console.error;
let unexpected: unknown[][] = [];
console.error = (...args: unknown[]) => {
  unexpected.push(args);
  originalError(...args);
};
afterEach(() => {
  const seen = unexpected;
  unexpected = [];
  vi.restoreAllMocks();
  if (seen.length > 0) throw new Error(`unexpected console.error: ${seen.map((a) => a.map(String).join(" ")).join(" | ")}`);
});
