import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { renderAccessTable, renderOpenOperations, renderScopeTable } from "./access-docs";
import { OPERATION_IDS, ROLES, ruleOf, type AccessRule } from "./permissions";

const DOC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../docs/platform-api.md");
const BLOCKS = { "access-table": renderAccessTable, "scope-table": renderScopeTable, "open-operations": renderOpenOperations } as const;
/** `WRITE_GENERATED_DOCS=1 npx vitest run platform/src/auth/permissions-doc.test.ts` rewrites the blocks instead of failing. */
const write = process.env.WRITE_GENERATED_DOCS === "1";

function block(text: string, name: string): { start: number; end: number } {
  const begin = new RegExp(`<!-- BEGIN GENERATED: ${name}[^>]*-->\\n`).exec(text);
  const end = text.indexOf(`<!-- END GENERATED: ${name} -->`);
  if (!begin || end < begin.index) throw new Error(`docs/platform-api.md lacks the markers <!-- BEGIN GENERATED: ${name} --> … <!-- END GENERATED: ${name} -->`);
  return { start: begin.index + begin[0].length, end };
}

/** "owner/admin" for the roles that narrow an operation; undefined when everyone may. */
function narrowed(roles: readonly string[]): string | undefined {
  if (ROLES.every((role) => roles.includes(role))) return undefined;
  return ROLES.filter((role) => roles.includes(role)).join("/");
}

describe("docs/platform-api.md follows the permission table", () => {
  it("has the generated access tables", async () => {
    let text = await readFile(DOC, "utf8");
    const stale: string[] = [];
    for (const [name, render] of Object.entries(BLOCKS)) {
      const { start, end } = block(text, name);
      const expected = `${render()}\n`;
      if (text.slice(start, end) === expected) continue;
      text = text.slice(0, start) + expected + text.slice(end);
      stale.push(`<!-- ${name} --> should be:\n\n${expected}`);
    }
    if (write && stale.length) await writeFile(DOC, text);
    else expect(stale, `docs/platform-api.md is out of date (or run with WRITE_GENERATED_DOCS=1):\n\n${stale.join("\n")}`).toEqual([]);
  });

  it("marks each route row with the roles it needs, as the table says", async () => {
    const text = await readFile(DOC, "utf8");
    const routes = text.slice(text.indexOf("## Routes"), text.indexOf("## Errors"));
    const checked = new Set<string>();
    const problems: string[] = [];
    for (const line of routes.split("\n")) {
      const row = /^\| (GET|POST|PUT|PATCH|DELETE) \| `([^`]+)`/.exec(line);
      if (!row) continue;
      const documented = row[2]!.split("?")[0]!.replace(/:(\w+)/g, "{$1}");
      const id = OPERATION_IDS.find((each) => {
        const rule = ruleOf(each);
        return rule.method === row[1]!.toLowerCase() && rule.path.split("?")[0] === documented;
      });
      if (!id) {
        problems.push(`${row[1]} ${row[2]} is documented but is no operation`);
        continue;
      }
      checked.add(id);
      const rule: AccessRule = ruleOf(id);
      const marked = /\((owner\/admin|owner)[;)]/.exec(line)?.[1];
      const needed = rule.level === "tenant" ? narrowed(rule.roles) : undefined;
      const allowedForOthers = rule.ownership ? narrowed(rule.ownership.others) : undefined;
      if (marked !== needed && !(needed === undefined && marked === allowedForOthers)) {
        problems.push(`${row[1]} ${row[2]}: marked ${marked ? `(${marked})` : "for everyone"}, but ${id} needs ${needed ?? "no particular role"}`);
      }
    }
    const undocumented = OPERATION_IDS.filter((id) => ruleOf(id).path.startsWith("/api/") && !checked.has(id) && id !== "service.docs" && id !== "service.docs-style");
    expect({ problems, undocumented }).toEqual({ problems: [], undocumented: [] });
  });
});
