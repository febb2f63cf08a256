import { MCP_MAX_DESCRIPTION_CHARS, MCP_MAX_SCHEMA_BYTES } from "@workforce/protocol";
import { describe, expect, it } from "vitest";
import { boundToolList } from "./mcp-tool-list";

const schema = { type: "object" as const, properties: { q: { type: "string" } } };

describe("a server's tool list as the gateway passes it on", () => {
  it("cuts long descriptions and leaves out a tool whose input schema is too large, saying why", () => {
    const huge = { type: "object" as const, properties: { q: { type: "string", description: "x".repeat(MCP_MAX_SCHEMA_BYTES) } } };
    const list = boundToolList([
      { name: "search", description: "d".repeat(MCP_MAX_DESCRIPTION_CHARS + 10), inputSchema: schema },
      { name: "bloated", description: "Too big.", inputSchema: huge },
      { name: "search", description: "again", inputSchema: schema },
    ]);
    expect(list.tools.map((tool) => tool.name)).toEqual(["search"]);
    expect(list.tools[0]!.description).toHaveLength(MCP_MAX_DESCRIPTION_CHARS);
    expect(list.tools[0]!.description.endsWith("…")).toBe(true);
    expect(list.omitted).toEqual([
      { name: "bloated", reason: expect.stringContaining(`over the ${MCP_MAX_SCHEMA_BYTES}-byte limit`) },
      { name: "search", reason: "listed twice; the first is kept" },
    ]);
  });

  it("uses the title when a tool has no description", () => {
    expect(boundToolList([{ name: "t", title: "Find things", inputSchema: schema }]).tools[0]!.description).toBe("Find things");
  });
});
