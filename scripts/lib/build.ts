/**
 * Builds what the services run in production: one esbuild bundle per service entry point
 * (gateway/dist, platform/dist) and the pre-initialised PGlite database new data directories are
 * copied from (platform/dist/pglite-template). Each is rebuilt only when one of its inputs is newer
 * than it, so `npm start` can call this on every start; `npm install` (prepare) and
 * `npm run build` call it too. Everything it writes is git-ignored and made by these commands.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

/** A bundle: one entry point, one output file (`<outDir>/<name>.js`, plus chunks). */
export interface BundleTarget {
  entry: string;
  outDir: string;
  name: string;
  /**
   * Packages loaded from node_modules at run time instead of bundled: PGlite finds its wasm beside
   * itself; @node-rs/argon2 picks its prebuilt native binary (an optional per-platform package) at
   * run time, which a bundle cannot contain.
   */
  external: string[];
}

/** Paths are relative to the repository root. */
export const BUNDLES: BundleTarget[] = [
  { entry: "gateway/src/cli.ts", outDir: "gateway/dist", name: "cli", external: [] },
  { entry: "platform/src/main.ts", outDir: "platform/dist", name: "main", external: ["@electric-sql/pglite", "pg-native", "@node-rs/argon2"] },
  // The operator CLI (`workforce doctor`, `keys`), for images without tsx (bin/workforce.js falls back to it).
  { entry: "platform/src/cli/workforce-cli.ts", outDir: "platform/dist", name: "workforce-cli", external: ["@electric-sql/pglite", "pg-native", "@node-rs/argon2"] },
  // The embedded database's own process (decision 050), forked by the platform beside main.js.
  { entry: "platform/src/db/embedded-database-main.ts", outDir: "platform/dist", name: "embedded-database", external: ["@electric-sql/pglite", "pg-native", "@node-rs/argon2"] },
  // `npm start`'s launcher itself, run by scripts/launch.js when up to date (node without tsx's
  // loader starts ~0.3 s sooner). Built two folders deep, like scripts/lib/build.ts, so the
  // repository root it computes from its own path is the same bundled or not.
  { entry: "scripts/start.ts", outDir: "scripts/dist", name: "start", external: ["esbuild"] },
  {
    entry: "platform/src/db/create-pglite-template.ts",
    outDir: "platform/dist",
    name: "create-pglite-template",
    external: ["@electric-sql/pglite", "pg-native", "@node-rs/argon2"],
  },
];

/** What the launcher (and the bench) runs: `node <bundle>`. */
export const GATEWAY_BUNDLE = path.join(repoRoot, "gateway", "dist", "cli.js");
export const PLATFORM_BUNDLE = path.join(repoRoot, "platform", "dist", "main.js");

/** Where the platform finds the template database by default (see platform/src/config.ts). */
export const PGLITE_TEMPLATE_DIR = "platform/dist/pglite-template";

/**
 * Inputs every bundle depends on besides its own sources: dependency versions (npm rewrites the
 * lockfile on any change, including PGlite's, which the template depends on) and this file.
 */
const SHARED_INPUTS = ["package-lock.json", "scripts/lib/build.ts", "packages/protocol/package.json", "packages/logging/package.json", "packages/net-guard/package.json"];

/** Written beside each bundle: what it was built from, so staleness is a stat of each input. */
interface BuildManifest {
  /** Hash of the esbuild options; a change of options rebuilds. */
  options: string;
  /** When the build started (inputs changed after this moment make it stale). */
  startedAt: number;
  inputs: string[];
}

type Log = (line: string) => void;

export function bundlePath(target: BundleTarget): string {
  return path.join(repoRoot, target.outDir, `${target.name}.js`);
}

function manifestPath(target: BundleTarget): string {
  return path.join(repoRoot, target.outDir, `${target.name}.build.json`);
}

/** The esbuild options a service bundle is built with (also used to build probes of the same shape in tests). */
export function optionsOf(target: BundleTarget) {
  return {
    entryPoints: { [target.name]: path.join(repoRoot, target.entry) },
    bundle: true,
    splitting: true,
    platform: "node" as const,
    format: "esm" as const,
    target: "node20",
    sourcemap: "linked" as const,
    external: target.external,
    chunkNames: `chunks/${target.name}-[hash]`,
    // Some CommonJS dependencies call require(); an ES module has none of its own.
    banner: { js: "import { createRequire as __bundleCreateRequire } from 'node:module'; const require = __bundleCreateRequire(import.meta.url);" },
    logLevel: "warning" as const,
    legalComments: "none" as const,
  };
}

function optionsHash(target: BundleTarget): string {
  return createHash("sha256").update(JSON.stringify(optionsOf(target))).digest("hex").slice(0, 16);
}

function mtimeOf(file: string): number | undefined {
  try {
    return statSync(path.join(repoRoot, file)).mtimeMs;
  } catch {
    return undefined;
  }
}

function readManifest(target: BundleTarget): BuildManifest | undefined {
  try {
    return JSON.parse(readFileSync(manifestPath(target), "utf8")) as BuildManifest;
  } catch {
    return undefined;
  }
}

/** Why the bundle must be rebuilt, or undefined when it is up to date. */
export function bundleStaleReason(target: BundleTarget): string | undefined {
  const manifest = readManifest(target);
  if (!manifest || !existsSync(bundlePath(target))) return "not built yet";
  if (manifest.options !== optionsHash(target)) return "build options changed";
  for (const input of new Set([...SHARED_INPUTS, ...manifest.inputs])) {
    const mtime = mtimeOf(input);
    if (mtime === undefined) return `${input} is gone`;
    if (mtime >= manifest.startedAt) return `${input} changed`;
  }
  return undefined;
}

async function buildBundle(target: BundleTarget): Promise<void> {
  const esbuild = await import("esbuild");
  const startedAt = Date.now();
  // Build beside the output and swap directories, so a concurrent start never runs half a bundle.
  const staging = path.join(repoRoot, target.outDir, `.staging-${target.name}-${process.pid}`);
  await removeLeftovers(path.join(repoRoot, target.outDir), `.staging-${target.name}-`);
  const result = await esbuild.build({ ...optionsOf(target), outdir: staging, metafile: true, write: true });
  const outDir = path.join(repoRoot, target.outDir);
  // Chunks are content-hashed: move them first, then the entry file, then the manifest.
  const outputs = Object.keys(result.metafile.outputs).map((output) => path.relative(staging, path.resolve(repoRoot, output)));
  const entryFiles = new Set([`${target.name}.js`, `${target.name}.js.map`]);
  for (const relative of [...outputs.filter((file) => !entryFiles.has(file)), ...outputs.filter((file) => entryFiles.has(file))]) {
    await mkdir(path.dirname(path.join(outDir, relative)), { recursive: true });
    await rename(path.join(staging, relative), path.join(outDir, relative));
  }
  await rm(staging, { recursive: true, force: true });
  await pruneOldChunks(target, new Set(outputs));
  const manifest: BuildManifest = {
    options: optionsHash(target),
    startedAt,
    // Dependencies change through npm, which rewrites package-lock.json (a shared input): checking
    // the lockfile instead of thousands of files in node_modules keeps `npm start` quick.
    // The shared inputs too, so scripts/launch.js (plain JavaScript) can tell a stale launcher from
    // this manifest alone.
    inputs: [
      ...new Set([
        ...SHARED_INPUTS,
        ...Object.keys(result.metafile.inputs)
          .map((input) => path.relative(repoRoot, path.resolve(repoRoot, input)))
          .filter((input) => !input.split(path.sep).includes("node_modules")),
      ]),
    ],
  };
  await writeFile(manifestPath(target), JSON.stringify(manifest) + "\n");
}

/** Staging directories of builds that were killed midway (builds hold the lock, so none is live). */
async function removeLeftovers(dir: string, prefix: string): Promise<void> {
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (name.startsWith(prefix)) await rm(path.join(dir, name), { recursive: true, force: true });
  }
}

/** A process started from an older build may still import its chunks lazily for a while. */
const CHUNK_GRACE_MS = 10 * 60_000;

/** Removes chunks of earlier builds of this target (content-hashed names pile up otherwise). */
async function pruneOldChunks(target: BundleTarget, current: Set<string>): Promise<void> {
  const chunksDir = path.join(repoRoot, target.outDir, "chunks");
  const names = await readdir(chunksDir).catch(() => [] as string[]);
  for (const name of names) {
    if (!name.startsWith(`${target.name}-`) || current.has(`chunks/${name}`)) continue;
    const file = path.join(chunksDir, name);
    const age = await stat(file).then((info) => Date.now() - info.mtimeMs, () => 0);
    if (age > CHUNK_GRACE_MS) await rm(file, { force: true });
  }
}

/* ---------- the PGlite template ---------- */

const TEMPLATE_STAMP = "platform/dist/pglite-template.json";

/** The template is stale when the bundle that creates it (migrations, PGlite settings) was rebuilt since. */
function templateStaleReason(): string | undefined {
  const creator = BUNDLES.find((target) => target.name === "create-pglite-template")!;
  let stamp: { createdBy?: number };
  try {
    stamp = JSON.parse(readFileSync(path.join(repoRoot, TEMPLATE_STAMP), "utf8")) as { createdBy?: number };
  } catch {
    return "not built yet";
  }
  if (!existsSync(path.join(repoRoot, PGLITE_TEMPLATE_DIR, "PG_VERSION"))) return "not built yet";
  const manifest = readManifest(creator);
  if (!manifest || stamp.createdBy !== manifest.startedAt) return "migrations or PGlite changed";
  return undefined;
}

async function buildTemplate(log: Log): Promise<void> {
  const creator = BUNDLES.find((target) => target.name === "create-pglite-template")!;
  const manifest = readManifest(creator);
  const target = path.join(repoRoot, PGLITE_TEMPLATE_DIR);
  const staging = `${target}.staging-${process.pid}`;
  await removeLeftovers(path.dirname(target), `${path.basename(target)}.staging-`);
  await removeLeftovers(path.dirname(target), `${path.basename(target)}.old-`);
  const code = await new Promise<number | null>((resolve) => {
    const child = spawn(process.execPath, [bundlePath(creator), staging], { cwd: repoRoot, stdio: ["ignore", "inherit", "inherit"] });
    child.on("exit", (exitCode) => resolve(exitCode));
    child.on("error", (error) => {
      log(`cannot create the PGlite template: ${error.message}`);
      resolve(1);
    });
  });
  if (code !== 0) {
    await rm(staging, { recursive: true, force: true });
    throw new Error(`creating the PGlite template failed (exit code ${String(code)})`);
  }
  const old = `${target}.old-${process.pid}`;
  if (existsSync(target)) await rename(target, old);
  await rename(staging, target);
  await rm(old, { recursive: true, force: true });
  await writeFile(path.join(repoRoot, TEMPLATE_STAMP), JSON.stringify({ createdBy: manifest?.startedAt }) + "\n");
}

/* ---------- one builder at a time ---------- */

const LOCK_DIR = path.join(repoRoot, "node_modules", ".cache", "workforce-build.lock");
const LOCK_OWNER = path.join(LOCK_DIR, "pid");

/** True when the process that took the lock is gone (killed mid-build, e.g. by Ctrl-C). */
async function lockAbandoned(): Promise<boolean> {
  const owner = Number(await readFile(LOCK_OWNER, "utf8").catch(() => ""));
  if (!owner) {
    // Just created and not yet written, or written by a process that died at once.
    const age = await stat(LOCK_DIR).then((info) => Date.now() - info.mtimeMs, () => 0);
    return age > 10_000;
  }
  try {
    process.kill(owner, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ESRCH";
  }
}

/** Several launchers may start at once (tests): the first builds, the others wait and re-check. */
async function withBuildLock<T>(task: () => Promise<T>): Promise<T> {
  await mkdir(path.dirname(LOCK_DIR), { recursive: true });
  for (;;) {
    try {
      await mkdir(LOCK_DIR);
      await writeFile(LOCK_OWNER, String(process.pid));
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      if (await lockAbandoned()) await rm(LOCK_DIR, { recursive: true, force: true });
      else await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  try {
    return await task();
  } finally {
    await rm(LOCK_DIR, { recursive: true, force: true });
  }
}

export interface EnsureBuiltOptions {
  log: Log;
  /** Also (re)build the PGlite template (not needed when DATABASE_URL is set). */
  pgliteTemplate: boolean;
  /** Rebuild everything, stale or not. */
  force?: boolean;
}

function staleWork(options: EnsureBuiltOptions) {
  const bundles = BUNDLES.map((target) => ({ target, reason: options.force ? "forced" : bundleStaleReason(target) })).filter((item) => item.reason);
  const template = options.pgliteTemplate ? (options.force ? "forced" : templateStaleReason()) : undefined;
  return { bundles, template };
}

/**
 * Brings the bundles (and the template) up to date. Cheap when nothing changed: one stat per
 * input file. Returns what was rebuilt.
 */
export async function ensureBuilt(options: EnsureBuiltOptions): Promise<string[]> {
  const first = staleWork(options);
  if (first.bundles.length === 0 && !first.template) return [];
  return withBuildLock(async () => {
    // Another launcher may have built it while this one waited for the lock.
    const { bundles, template } = staleWork(options);
    const built: string[] = [];
    for (const { target, reason } of bundles) {
      options.log(`bundling ${target.entry} (${reason ?? ""})…`);
      await buildBundle(target);
      built.push(target.entry);
    }
    const templateReason = options.pgliteTemplate ? (options.force ? "forced" : templateStaleReason()) : template;
    if (templateReason) {
      options.log(`creating the embedded database template (${templateReason}; once, a few seconds)…`);
      await buildTemplate(options.log);
      built.push(PGLITE_TEMPLATE_DIR);
    }
    return built;
  });
}
