// `npm start`: runs the launcher (scripts/start.ts) from its bundle, scripts/dist/start.js, when
// that is up to date, and from source through tsx otherwise; the launcher then brings every
// bundle up to date, its own too, so the next start takes the quick way. Plain JavaScript on
// purpose: loading tsx's loader costs a few hundred milliseconds of every start (decision 053).
import { readFileSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const bundle = path.join(repoRoot, "scripts", "dist", "start.js");

/**
 * The same test as bundleStaleReason in scripts/lib/build.ts, from the manifest written beside the
 * bundle: every input older than the build. Anything unexpected (no manifest, an older manifest
 * without the shared inputs, a missing input) means stale, which is only slower, never wrong.
 */
function bundleUpToDate() {
  try {
    const manifest = JSON.parse(readFileSync(path.join(repoRoot, "scripts", "dist", "start.build.json"), "utf8"));
    if (typeof manifest.startedAt !== "number" || !Array.isArray(manifest.inputs)) return false;
    if (!manifest.inputs.includes("package-lock.json") || !manifest.inputs.includes("scripts/lib/build.ts")) return false;
    statSync(bundle);
    return manifest.inputs.every((input) => statSync(path.join(repoRoot, input)).mtimeMs < manifest.startedAt);
  } catch {
    return false;
  }
}

if (bundleUpToDate()) {
  await import(bundle);
} else {
  const { register } = await import("tsx/esm/api");
  register();
  await import(new URL("./start.ts", import.meta.url).href);
}
