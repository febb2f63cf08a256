import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";

/** A compiled `WebAssembly.Module`, opaque here: the TypeScript libs we build with (no DOM) do not declare WebAssembly. */
export type PgliteWasmModule = object;

/** Node's global WebAssembly, the one call we need. */
const webAssembly = (globalThis as unknown as { WebAssembly: { compile(bytes: Uint8Array): Promise<PgliteWasmModule> } }).WebAssembly;

/** Where the installed PGlite keeps its Postgres WebAssembly (beside its entry points). */
export function pgliteWasmPath(): string {
  return path.join(path.dirname(createRequire(import.meta.url).resolve("@electric-sql/pglite")), "pglite.wasm");
}

/**
 * Compiles PGlite's Postgres (9 MB of WebAssembly) ahead of `PGlite.create`, which takes the module
 * as `pgliteWasmModule`: the embedded database's process starts this before it is told which
 * directory to open, so the compile runs while the platform loads and the template is copied.
 * Undefined when it cannot (a missing or unreadable file): PGlite then compiles its own, as before.
 */
export async function compilePgliteWasm(file = pgliteWasmPath()): Promise<PgliteWasmModule | undefined> {
  try {
    return await webAssembly.compile(await readFile(file));
  } catch {
    return undefined;
  }
}
