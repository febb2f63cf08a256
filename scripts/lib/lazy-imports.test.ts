/**
 * A package the services import on first use must work in the built bundles, not only from
 * source: esbuild hands a CommonJS package's exports to a dynamic `import()` as `default` only,
 * where Node and tsx name them. Tests run from source, so a lazy `import("redis")` whose
 * `createClient` is undefined in platform/dist passed them all (it did: a clustered platform then
 * never saw its gateways). Two checks: every lazy import of a package in the services' source
 * either uses `default` alone or goes through `namedExports`; and a probe bundle, built with the
 * services' esbuild options and run by Node, uses each such package the way the services do.
 */
import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:http";
import net, { type AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BUNDLES, optionsOf, repoRoot } from "./build";

const SOURCE_ROOTS = ["gateway/src", "platform/src", "packages"];
/** The packages scripts/lib/lazy-imports-probe.ts uses, in a bundle, the way the services do. */
const PROBED = ["undici", "redis", "any-ascii"];

function sourceFiles(dir: string): string[] {
  return readdirSync(path.join(repoRoot, dir), { withFileTypes: true }).flatMap((entry) => {
    const relative = path.join(dir, entry.name);
    if (entry.isDirectory()) return ["node_modules", "dist", "test-support", "testing", "test-fixtures"].includes(entry.name) ? [] : sourceFiles(relative);
    return /\.tsx?$/.test(entry.name) && !/\.test\.tsx?$/.test(entry.name) ? [relative] : [];
  });
}

/** Every `import("package")` in the services' source that a bundle includes (externals stay Node's own imports). */
function lazyPackageImports() {
  const external = new Set(BUNDLES.flatMap((bundle) => bundle.external));
  return SOURCE_ROOTS.flatMap(sourceFiles)
    .flatMap((file) => {
      const code = readFileSync(path.join(repoRoot, file), "utf8");
      return [...code.matchAll(/import\("([^".][^"]*)"\)/g)]
        .filter((match) => !match[1]!.startsWith("node:") && !external.has(match[1]!))
        .map((match) => {
          const before = code.slice(Math.max(0, match.index - 40), match.index);
          const after = code.slice(match.index, match.index + 200);
          const defaultOnly = /\{\s*default:\s*\w+\s*\}\s*=\s*await\s*$/.test(before) || /^import\("[^"]+"\)\.then\(\(\{\s*default:\s*\w+\s*\}\)/.test(after);
          return { where: `${file}: import("${match[1]}")`, pkg: match[1]!, defaultOnly, safe: defaultOnly || /namedExports\(/.test(after) };
        });
    });
}

describe("lazily imported packages in the built services", () => {
  it("are used through `default` alone or through namedExports, and each one the services name is probed", () => {
    const found = lazyPackageImports();
    // The scan must see the imports it is about: an empty list would pass for nothing.
    expect(found.map((each) => each.pkg)).toEqual(expect.arrayContaining(["undici", "redis", "any-ascii", "nodemailer"]));
    expect(found.filter((each) => !each.safe).map((each) => each.where)).toEqual([]);
    // Named exports are checked where it counts, in a bundle: each such package must be in the probe.
    expect(found.filter((each) => !each.defaultOnly && !PROBED.includes(each.pkg)).map((each) => each.where)).toEqual([]);
  });

  describe("a probe bundle built like the services", () => {
    let dir: string;
    let server: ReturnType<typeof createServer>;
    let output: { undici: { ok?: string; failed?: string }; redis: { ok?: string[]; failed?: string }; anyAscii: { ok?: string; failed?: string } };

    beforeAll(async () => {
      dir = await mkdtemp(path.join(os.tmpdir(), "wf-lazy-probe-"));
      const esbuild = await import("esbuild");
      await esbuild.build({
        ...optionsOf({ entry: "scripts/lib/lazy-imports-probe.ts", outDir: dir, name: "probe", external: [] }),
        outdir: dir,
        logLevel: "silent",
      });
      server = createServer((_request, response) => response.end("served through undici"));
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      // A port nothing listens on: the probe's Redis client meets a refused connection.
      const closed = net.createServer();
      await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
      const closedPort = (closed.address() as AddressInfo).port;
      await new Promise<void>((resolve) => closed.close(() => resolve()));
      const child = spawn(process.execPath, [path.join(dir, "probe.js"), `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, `redis://127.0.0.1:${closedPort}`], { stdio: ["ignore", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      const code = await new Promise<number | null>((resolve) => child.once("close", resolve));
      if (code !== 0) throw new Error(`the probe bundle exited ${code}: ${stderr}`);
      output = JSON.parse(stdout) as typeof output;
    }, 60_000);

    afterAll(async () => {
      await new Promise<void>((resolve) => server?.close(() => resolve()));
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it("fetches through the SSRF guard (undici)", () => {
      expect(output.undici).toEqual({ ok: "served through undici" });
    });

    it("reads the gateways' membership from Redis, and a Redis that is down is a connection problem, not a missing export (redis)", () => {
      expect(output.redis.failed).toBeUndefined();
      const [listed, ...reported] = output.redis.ok!;
      expect(listed).toBe("listed 0");
      expect(reported.join("\n")).not.toMatch(/TypeError|is not a function|no export/);
      expect(reported.join("\n")).toMatch(/ECONNREFUSED|connect/i);
    });

    it("transliterates agent names into slugs (any-ascii)", () => {
      expect(output.anyAscii).toEqual({ ok: "yan-jiu-yuan-issledovatel" });
    });
  });
});
