/**
 * What a service loads before it answers its first request is what every installation pays in
 * idle memory and start-up time (issue 17): the large libraries that only some requests need are
 * imported on first use, so esbuild puts them in chunks the entry does not load. This reads the
 * built bundles (their static import graph and source maps), as `npm start` would run them.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ensureBuilt, GATEWAY_BUNDLE, PLATFORM_BUNDLE } from "./build";

/** Code loaded on first use only (a path inside node_modules), and what needs it. */
const LOADED_ON_FIRST_USE: Record<string, string> = {
  "undici/": "the SSRF-guarded fetch (web tools, MCP, organisations' own model keys)",
  "linkedom/": "web_fetch's HTML reader",
  "@mozilla/readability/": "web_fetch's HTML reader",
  "@mixmark-io/domino/": "web_fetch's HTML reader",
  "ajv/": "the MCP client",
  "nodemailer/dist/esm/mailer/": "the first mail (only its address parser is needed at start)",
};

/** Every file the entry loads before running: itself and the chunks it imports statically, transitively. */
function staticallyLoaded(entry: string): string[] {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const code = readFileSync(file, "utf8");
    for (const match of code.matchAll(/(?:^|[;\n}])\s*import\s*(?:[\w*{}\s,$]+from\s*)?"(\.{1,2}\/[^"]+\.js)"/g)) visit(path.resolve(path.dirname(file), match[1]!));
  };
  visit(entry);
  return [...seen];
}

/** The node_modules paths (after "node_modules/") whose code is in these files, from their source maps. */
function modulesIn(files: string[]): string[] {
  const modules: string[] = [];
  for (const file of files) {
    const map = JSON.parse(readFileSync(`${file}.map`, "utf8")) as { sources: string[] };
    for (const source of map.sources) {
      const at = source.lastIndexOf("node_modules/");
      if (at >= 0) modules.push(source.slice(at + "node_modules/".length));
    }
  }
  return modules;
}

const including = (modules: string[], fragment: string) => modules.some((module) => module.startsWith(fragment));

beforeAll(async () => {
  await ensureBuilt({ log: () => undefined, pgliteTemplate: false });
}, 120_000);

describe("service bundles load large optional libraries on first use only", () => {
  for (const [service, bundle] of [
    ["gateway", GATEWAY_BUNDLE],
    ["platform", PLATFORM_BUNDLE],
  ] as const) {
    it(`${service}: none of them is loaded at start`, () => {
      const loaded = modulesIn(staticallyLoaded(bundle));
      const eager = Object.keys(LOADED_ON_FIRST_USE).filter((fragment) => including(loaded, fragment));
      expect(eager.map((fragment) => `${fragment} (${LOADED_ON_FIRST_USE[fragment]})`)).toEqual([]);
      // The entry's graph must have been read: an empty one would pass the check above for nothing.
      expect(including(loaded, "hono/")).toBe(true);
    });
  }

  it("they are still in the builds, in chunks loaded when needed", () => {
    const everything = (bundle: string) => {
      const chunks = path.join(path.dirname(bundle), "chunks");
      return modulesIn(readdirSync(chunks).filter((name) => name.endsWith(".js")).map((name) => path.join(chunks, name)));
    };
    const gateway = everything(GATEWAY_BUNDLE);
    for (const fragment of ["undici/", "linkedom/", "@mozilla/readability/", "ajv/"]) expect(including(gateway, fragment), fragment).toBe(true);
    expect(including(everything(PLATFORM_BUNDLE), "nodemailer/dist/esm/mailer/")).toBe(true);
  });
});
