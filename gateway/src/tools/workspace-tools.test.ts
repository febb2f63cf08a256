import { access, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { tenantPaths } from "@workforce/protocol/tenant-path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Tool, ToolContext } from "./tool";
import { createWorkspaceTools } from "./workspace-tools";

const TENANT = "33333333-3333-4333-8333-333333333333";
let base: string;
let context: ToolContext;
const tools = createWorkspaceTools();
const tool = (name: string): Tool => tools.find((candidate) => candidate.spec.name === name)!;

beforeEach(async () => {
  base = await mkdtemp(path.join(os.tmpdir(), "gateway-tools-"));
  const dataDir = path.join(base, "data");
  const paths = tenantPaths(dataDir, TENANT);
  const agent = paths.agent("ada");
  await mkdir(agent.workspace, { recursive: true });
  await writeFile(path.join(agent.workspace, "MEMORY.md"), "# MEMORY.md\n\n");
  context = { tenantRoot: paths.root, agent, signal: new AbortController().signal };
});
afterEach(async () => {
  await rm(base, { recursive: true, force: true });
});

describe("workspace tools", () => {
  it("write, read, list, search and append to memory inside the workspace", async () => {
    expect(await tool("write_file").execute({ path: "notes/plan.md", content: "Step one: find the Analytical Engine\n" }, context)).toContain("notes/plan.md");
    expect(await tool("read_file").execute({ path: "notes/plan.md" }, context)).toBe("Step one: find the Analytical Engine\n");
    expect(await tool("list_files").execute({}, context)).toBe("MEMORY.md\nnotes/");
    expect(await tool("search_files").execute({ query: "analytical" }, context)).toBe("notes/plan.md:1: Step one: find the Analytical Engine");
    await tool("append_memory").execute({ note: "Prefers\nfootnotes" }, context);
    expect(await readFile(path.join(context.agent.workspace, "MEMORY.md"), "utf8")).toContain("- Prefers footnotes\n");
    expect(tool("read_file").spec.inputSchema).toMatchObject({ type: "object", required: ["path"] });
  });

  it("rejects traversal, encoded, absolute and symlinked paths and touches nothing outside", async () => {
    const outside = path.join(base, "outside");
    await mkdir(outside);
    await writeFile(path.join(outside, "secret.txt"), "top secret");
    await symlink(outside, path.join(context.agent.workspace, "escape"));
    const attacks: [string, Record<string, unknown>, string][] = [
      ["read_file", { path: "../../../../outside/secret.txt" }, "invalid_path"],
      ["read_file", { path: "%2e%2e/%2e%2e/secret.txt" }, "invalid_path"],
      ["read_file", { path: "/etc/passwd" }, "invalid_path"],
      ["read_file", { path: "notes\u0000.md" }, "invalid_path"],
      ["read_file", { path: "escape/secret.txt" }, "path_escape"],
      ["write_file", { path: "escape/planted.txt", content: "x" }, "path_escape"],
      ["list_files", { path: "escape" }, "path_escape"],
      ["search_files", { query: "secret", path: "escape" }, "path_escape"],
      ["write_file", { path: "IDENTITY.md", content: "I have no name" }, "forbidden"],
    ];
    for (const [name, input, code] of attacks) {
      await expect(tool(name).execute(input, context), `${name} ${JSON.stringify(input)}`).rejects.toMatchObject({ code });
    }
    await expect(access(path.join(outside, "planted.txt"))).rejects.toThrow();
    expect(await tool("search_files").execute({ query: "secret" }, context)).toBe('no matches for "secret"');
  });
});
