import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { migrationProvider } from "./migrations";
import { openPgliteStore } from "./pglite-store";
import { compilePgliteWasm } from "./pglite-wasm";
import { BUILT_PGLITE_TEMPLATE as templateDir } from "../test-support/pglite-template-dir";


/** With the names we know the template is used (a copy, not an initdb). */
const migrationNames = async () => Object.keys(await migrationProvider.getMigrations());

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "workforce-pglite-wasm-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("PGlite's WebAssembly compiled ahead of opening", { timeout: 120_000 }, () => {
  it("opens the database with the module compiled beforehand", async () => {
    const wasmModule = compilePgliteWasm();
    expect(await wasmModule).toBeInstanceOf((globalThis as any).WebAssembly.Module);
    const store = await openPgliteStore({ dataDir: path.join(dir, "db"), templateDir, migrations: await migrationNames(), wasmModule });
    try {
      expect((await store.pglite.query<{ n: number }>("select 1 + 1 as n")).rows[0]?.n).toBe(2);
    } finally {
      await store.close();
    }
  });

  it("gives up quietly on a missing or damaged file, and the database still opens", async () => {
    expect(await compilePgliteWasm(path.join(dir, "missing.wasm"))).toBeUndefined();
    const damaged = path.join(dir, "damaged.wasm");
    await writeFile(damaged, "not WebAssembly");
    const wasmModule = compilePgliteWasm(damaged);
    expect(await wasmModule).toBeUndefined();
    const store = await openPgliteStore({ dataDir: path.join(dir, "db"), templateDir, migrations: await migrationNames(), wasmModule });
    try {
      expect((await store.pglite.query<{ n: number }>("select 1 + 1 as n")).rows[0]?.n).toBe(2);
    } finally {
      await store.close();
    }
  });
});
