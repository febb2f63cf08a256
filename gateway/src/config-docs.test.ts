import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";

describe("the gateway's variables", () => {
  it("are all in the configuration table of docs/gateway-api.md", async () => {
    const source = await readFile(new URL("./config.ts", import.meta.url), "utf8");
    const docs = await readFile(new URL("../../docs/gateway-api.md", import.meta.url), "utf8");
    const table = docs.slice(docs.indexOf("## Configuration"), docs.indexOf("## Limits"));
    const named = [...source.matchAll(/^\s{2}([A-Z][A-Z0-9_]+): /gm)].map((match) => match[1]!);
    expect(named).toContain("WORKFORCE_TENANT_MAX_QUEUED_RUNS");
    expect(named.filter((name) => !table.includes(`\`${name}\``))).toEqual([]);
  });
});
