import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { installedPgliteVersion, seedFromTemplate, stampPgliteTemplate } from "./pglite-template";

let tmp: string;
let template: string;
let dataDir: string;

beforeEach(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), "workforce-template-"));
  template = path.join(tmp, "template");
  dataDir = path.join(tmp, "db");
  // Stands in for an initdb'd directory: the copy is what is under test, not Postgres.
  await mkdir(path.join(template, "base", "1"), { recursive: true });
  await writeFile(path.join(template, "PG_VERSION"), "17\n");
  await writeFile(path.join(template, "base", "1", "PG_VERSION"), "17\n");
  await writeFile(path.join(template, "postgresql.conf"), "# conf\n");
  await stampPgliteTemplate(template, ["001-initial", "002-next"]);
  await mkdir(dataDir, { recursive: true });
});
afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe("seedFromTemplate", () => {
  it("copies the template into a new data directory, without its stamp", async () => {
    expect(await seedFromTemplate(dataDir, template, ["001-initial", "002-next", "003-later"])).toBe(true);
    expect(await readFile(path.join(dataDir, "PG_VERSION"), "utf8")).toBe("17\n");
    expect(await readFile(path.join(dataDir, "base", "1", "PG_VERSION"), "utf8")).toBe("17\n");
    expect(existsSync(path.join(dataDir, "postgresql.conf"))).toBe(true);
    expect(existsSync(path.join(dataDir, "workforce-template.json"))).toBe(false);
  });

  it("never touches a directory that already holds a database", async () => {
    await writeFile(path.join(dataDir, "PG_VERSION"), "16\n");
    expect(await seedFromTemplate(dataDir, template, ["001-initial", "002-next"])).toBe(false);
    expect(await readFile(path.join(dataDir, "PG_VERSION"), "utf8")).toBe("16\n");
    expect(existsSync(path.join(dataDir, "postgresql.conf"))).toBe(false);
  });

  it("finishes a copy that was cut short (no PG_VERSION yet)", async () => {
    await writeFile(path.join(dataDir, "postgresql.conf"), "half\n");
    expect(await seedFromTemplate(dataDir, template, ["001-initial", "002-next"])).toBe(true);
    expect(await readFile(path.join(dataDir, "postgresql.conf"), "utf8")).toBe("# conf\n");
  });

  it("ignores a template with a migration this code no longer has, or from another PGlite", async () => {
    expect(await seedFromTemplate(dataDir, template, ["001-initial"])).toBe(false);
    await writeFile(path.join(template, "workforce-template.json"), JSON.stringify({ pgliteVersion: "0.0.1", migrations: [] }));
    expect(await seedFromTemplate(dataDir, template, ["001-initial", "002-next"])).toBe(false);
    expect(existsSync(path.join(dataDir, "PG_VERSION"))).toBe(false);
  });

  it("ignores a template made before a migration that sorts earlier than its own (it could never apply in order)", async () => {
    expect(await seedFromTemplate(dataDir, template, ["001-initial", "001b-inserted", "002-next"])).toBe(false);
    expect(existsSync(path.join(dataDir, "PG_VERSION"))).toBe(false);
  });

  it("does nothing without a template", async () => {
    expect(await seedFromTemplate(dataDir, undefined, [])).toBe(false);
    expect(await seedFromTemplate(dataDir, path.join(tmp, "missing"), [])).toBe(false);
    expect(installedPgliteVersion()).toMatch(/^\d+\.\d+\.\d+/);
  });
});
