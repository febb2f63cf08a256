import { mkdir } from "node:fs/promises";
import type { PGlite } from "@electric-sql/pglite";
import { lockPgliteDir, type PgliteLock } from "./pglite-lock";
import { seedFromTemplate } from "./pglite-template";
import type { PgliteWasmModule } from "./pglite-wasm";

/**
 * Extra Postgres settings of the embedded database. PGlite's Postgres keeps shared_buffers in its
 * WebAssembly memory and touches all of it at start: the default 128 MB is ~120 MB of resident
 * memory that is never given back. The platform's tables are small; 16 MB caches them.
 */
const PGLITE_SETTINGS = ["-c", "shared_buffers=16MB"];

/**
 * The part of `openPglite` before migrations, all the embedded database's own process does (it is
 * migrated through its socket): the lock, the template copy (`migrations`: the names we know, to
 * tell a usable template), PGlite itself.
 */
export async function openPgliteStore(options: {
  dataDir: string;
  templateDir?: string | undefined;
  migrations: string[];
  /**
   * PGlite's WebAssembly being compiled beforehand (`compilePgliteWasm`), awaited only after the lock
   * and the template copy, which it overlaps; PGlite compiles its own when it is absent or undefined.
   */
  wasmModule?: Promise<PgliteWasmModule | undefined> | undefined;
}): Promise<{ pglite: PGlite; seededFromTemplate: boolean; close(): Promise<void> }> {
  // Imported here so a platform on DATABASE_URL never loads PGlite.
  const { PGlite } = await import("@electric-sql/pglite");
  const { dataDir } = options;
  let seededFromTemplate = false;
  let lock: PgliteLock | undefined;
  if (!dataDir.startsWith("memory://")) {
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    // PGlite does not lock its directory itself; a second process would corrupt it.
    lock = await lockPgliteDir(dataDir);
  }
  let pglite: PGlite;
  try {
    if (lock) seededFromTemplate = await seedFromTemplate(dataDir, options.templateDir, options.migrations);
    const wasmModule = await options.wasmModule;
    pglite = await PGlite.create(dataDir, {
      startParams: [...PGlite.defaultStartParams, ...PGLITE_SETTINGS],
      ...(wasmModule ? { pgliteWasmModule: wasmModule } : {}),
    });
  } catch (error) {
    await lock?.release();
    throw error;
  }
  return {
    pglite,
    seededFromTemplate,
    async close() {
      await pglite.close();
      await lock?.release();
    },
  };
}
