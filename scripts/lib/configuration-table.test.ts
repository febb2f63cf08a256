/**
 * The README's configuration table is the operator's one list: it names every variable either
 * service, the launcher or the web build reads, and nothing that nobody reads. The variables come
 * from the services' configuration schemas and help lists and from a scan of every `env.NAME` in
 * the sources, so a variable read anywhere without a row fails here, whoever added it.
 */
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { GATEWAY_ENV_NAMES } from "../../gateway/src/config";
import { PLATFORM_ENV_NAMES } from "../../platform/src/config";
import { PLATFORM_ENV_HELP } from "../../platform/src/config-help";
import { repoRoot } from "./build";

/** Read by our code but not configuration of ours: conventions of the platform or of test and bench tooling. */
const NOT_CONFIGURATION = new Map<string, string>([
  ["NO_COLOR", "the no-color.org convention, honoured by the launcher's output"],
  ["XDG_DATA_HOME", "the XDG convention: where the launcher's default data directory goes (named under TENANT_DATA_DIR)"],
  ["FAST_CHECK_SEED", "replays a failed property test"],
  ["FAST_CHECK_PATH", "replays a failed property test"],
  ["FAST_CHECK_RUNS", "how many runs a property test makes"],
  ["SIZES", "sizes measured by gateway/src/bench/append-cost.ts"],
  ["PGUSER", "libpq's own variable: backup hands pg_dump and psql the connection this way, and names the database after the user as libpq does"],
]);

interface TableRow {
  names: string[];
  usedBy: string;
}

async function readmeRows(): Promise<TableRow[]> {
  const readme = await readFile(path.join(repoRoot, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("## Configuration"), readme.indexOf("\n## ", readme.indexOf("## Configuration") + 1));
  return section
    .split("\n")
    .filter((line) => line.startsWith("| `"))
    .map((line) => {
      const [first = "", usedBy = ""] = line.split("|").slice(1);
      return { names: [...first.matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((match) => match[1]!), usedBy: usedBy.trim() };
    });
}

async function sourceFiles(directory: string): Promise<string[]> {
  if (/\.tsx?$/.test(directory)) return [path.join(repoRoot, directory)];
  const entries = await readdir(path.join(repoRoot, directory), { withFileTypes: true, recursive: true });
  return entries
    .filter((entry) => entry.isFile() && /\.(ts|tsx)$/.test(entry.name) && !/(\.test|test-support)\.tsx?$/.test(entry.name))
    .map((entry) => path.join(entry.parentPath, entry.name))
    .filter((file) => !["node_modules", "dist", "test-support"].some((folder) => file.includes(`${path.sep}${folder}${path.sep}`)))
    .filter((file) => !OPERATOR_CLI.some((folder) => directory !== folder && file.startsWith(path.join(repoRoot, folder) + path.sep)));
}

/**
 * The operator CLI (doctor, backup, restore) runs with the services' environment and reads it to
 * check it (the provider key the gateway would use, REDIS_URL): its reads are the services', not
 * the platform's, so it is a reader of its own that may read any row.
 */
const OPERATOR_CLI = ["platform/src/ops", "platform/src/cli"];

/** Every `env.NAME`, `env["NAME"]` (process.env, import.meta.env, an env parameter) in the non-test sources under `directories`. */
async function namesReadIn(...directories: string[]): Promise<Set<string>> {
  const names = new Set<string>();
  for (const directory of directories) {
    for (const file of await sourceFiles(directory)) {
      const text = await readFile(file, "utf8");
      // A read, not an assignment (`env.PGHOST = …` hands a child process its environment).
      for (const match of text.matchAll(/\benv(?:\.([A-Z][A-Z0-9_]+)\b|\[\s*["']([A-Z][A-Z0-9_]+)["']\s*\])(?!\s*=[^=])/g)) names.add(match[1] ?? match[2]!);
    }
  }
  return names;
}

const platformReads = async () => new Set([...PLATFORM_ENV_NAMES, ...(await namesReadIn("platform/src"))]);
const gatewayReads = async () => new Set([...GATEWAY_ENV_NAMES, ...(await namesReadIn("gateway/src"))]);

describe("the README's configuration table", () => {
  it("lists every variable each reader reads, saying who reads it", async () => {
    const rows = await readmeRows();
    const row = (name: string) => rows.find((candidate) => candidate.names.includes(name));
    const readers: Record<string, { names: Set<string>; usedBy: RegExp }> = {
      platform: { names: await platformReads(), usedBy: /platform|both/ },
      gateway: { names: await gatewayReads(), usedBy: /gateway|both/ },
      launcher: { names: await namesReadIn("scripts"), usedBy: /./ },
      "operator CLI": { names: await namesReadIn(...OPERATOR_CLI), usedBy: /./ },
      web: { names: await namesReadIn("platform/web/src", "platform/web/vite.config.ts"), usedBy: /web/ },
    };
    const problems: string[] = [];
    for (const [reader, { names, usedBy }] of Object.entries(readers)) {
      for (const name of names) {
        if (NOT_CONFIGURATION.has(name)) continue;
        const found = row(name);
        if (!found) problems.push(`${name}: read by the ${reader} but not in the table`);
        else if (!usedBy.test(found.usedBy)) problems.push(`${name}: read by the ${reader} but "used by" says "${found.usedBy}"`);
      }
    }
    expect(problems).toEqual([]);
    expect(readers.gateway!.names).toContain("REDIS_URL");
    expect(readers.web!.names).toContain("VITE_API_URL");
  });

  it("lists nothing nobody reads, and no service a variable does not reach", async () => {
    const [platform, gateway] = [await platformReads(), await gatewayReads()];
    const anyone = new Set([...platform, ...gateway, ...(await namesReadIn("scripts", "platform/web/src", "platform/web/vite.config.ts", ...OPERATOR_CLI))]);
    const problems: string[] = [];
    for (const { names, usedBy } of await readmeRows()) {
      for (const name of names) {
        if (!anyone.has(name)) problems.push(`${name}: in the table, read by nobody`);
        if (/platform|both/.test(usedBy) && !platform.has(name)) problems.push(`${name}: "used by" says "${usedBy}", the platform does not read it`);
        if (/gateway|both/.test(usedBy) && !gateway.has(name)) problems.push(`${name}: "used by" says "${usedBy}", the gateway does not read it`);
      }
    }
    expect(problems).toEqual([]);
  });

  it("agrees with the platform's --help list in both directions", async () => {
    const help = new Set(PLATFORM_ENV_HELP.map((entry) => entry.name));
    const reads = await platformReads();
    expect([...reads].filter((name) => !help.has(name))).toEqual([]);
    expect([...help].filter((name) => !reads.has(name))).toEqual([]);
  });
});
