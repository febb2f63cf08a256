/**
 * The first page's JavaScript stays small: what index.html loads (its module scripts, their
 * modulepreloads and every chunk they import statically) is at most 200 kB gzipped, and the heavy
 * parts of the chat (the markdown renderer, the code highlighter) are in chunks fetched later.
 * Reads the built app: `npm test` runs `npm run build:web` first (so does the e2e suite's CI job).
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { z } from "zod";

const dist = path.join(import.meta.dirname, "..", "dist");
const BUDGET_BYTES = 200 * 1000;

const SourceMap = z.object({ sources: z.array(z.string()) });

/** Chunk file names (relative to dist) the page loads before anything is clicked. */
function initialChunks(): string[] {
  const html = readFileSync(path.join(dist, "index.html"), "utf8");
  const entries = [
    ...[...html.matchAll(/<script[^>]*type="module"[^>]*src="\/?([^"]+\.js)"/g)].map((match) => match[1] ?? ""),
    ...[...html.matchAll(/<link[^>]*rel="modulepreload"[^>]*href="\/?([^"]+\.js)"/g)].map((match) => match[1] ?? ""),
  ];
  const seen = new Set<string>();
  const queue = [...entries];
  while (queue.length > 0) {
    const file = queue.shift() ?? "";
    if (seen.has(file)) continue;
    seen.add(file);
    const code = readFileSync(path.join(dist, file), "utf8");
    // Static imports only (`import{a}from"./x.js"`, `import"./x.js"`); `import("./x.js")` is lazy.
    for (const match of code.matchAll(/\bimport\s*(?:[\w$*{}\s,]+?\s*from\s*)?["'](\.\/[^"']+\.js)["']/g)) {
      queue.push(path.posix.join(path.posix.dirname(file), match[1] ?? ""));
    }
  }
  return [...seen];
}

/** The npm packages a chunk was built from, read from its source map. */
function packagesIn(file: string): Set<string> {
  const mapFile = path.join(dist, `${file}.map`);
  // The bundler's own runtime chunk (rolldown-runtime-*.js) has no source map: no package's code is in it.
  if (!existsSync(mapFile) && /rolldown-runtime/.test(file)) return new Set();
  const map = SourceMap.parse(JSON.parse(readFileSync(mapFile, "utf8")));
  return new Set(map.sources.flatMap((source) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(source)?.[1] ?? []));
}

const gzipped = (file: string) => gzipSync(readFileSync(path.join(dist, file))).length;

describe("bundle size", () => {
  it("has a built app to measure", () => {
    expect(existsSync(path.join(dist, "index.html")), "run `npm run build:web` first").toBe(true);
  });

  it.runIf(existsSync(path.join(dist, "index.html")))("loads at most 200 kB of gzipped JavaScript first, with markdown and highlighting lazy", () => {
    const initial = initialChunks();
    expect(initial.length).toBeGreaterThan(0);
    const sizes = initial.map((file) => ({ file, bytes: gzipped(file) }));
    const total = sizes.reduce((sum, each) => sum + each.bytes, 0);
    expect(total, `initial JavaScript: ${sizes.map((each) => `${each.file} ${(each.bytes / 1000).toFixed(1)} kB`).join(", ")}`).toBeLessThanOrEqual(BUDGET_BYTES);

    const initialPackages = new Set(initial.flatMap((file) => [...packagesIn(file)]));
    for (const lazy of ["highlight.js", "lowlight", "react-markdown", "micromark", "remark-gfm", "rehype-sanitize"]) {
      expect(initialPackages.has(lazy), `${lazy} must not be in the first page's JavaScript`).toBe(false);
    }
    expect(initialPackages.has("react-dom"), "the measured chunks are the app's").toBe(true);
  });

  it.runIf(existsSync(path.join(dist, "index.html")))("puts the highlighter in a chunk of its own that the chat fetches on demand", () => {
    const initial = new Set(initialChunks());
    const lazy = readdirSync(path.join(dist, "assets"))
      .filter((name) => name.endsWith(".js"))
      .map((name) => `assets/${name}`)
      .filter((file) => !initial.has(file));
    const highlighter = lazy.filter((file) => packagesIn(file).has("highlight.js"));
    expect(highlighter).toHaveLength(1);
    const inside = packagesIn(highlighter[0] ?? "");
    expect(inside.has("react-dom") || inside.has("micromark"), "the highlighter's chunk holds the highlighter only").toBe(false);
  });
});
