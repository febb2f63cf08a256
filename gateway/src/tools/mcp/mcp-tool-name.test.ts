import { describe, expect, it } from "vitest";
import { mcpModelToolName, PROVIDER_TOOL_NAME } from "./mcp-tool-name";

describe("the names the model sees for MCP tools", () => {
  it("are mcp__{namespace}__{tool} when the tool's name already fits", () => {
    expect(mcpModelToolName("docs", "search_pages")).toBe("mcp__docs__search_pages");
  });

  it("fit the providers' pattern, stay stable, and keep apart names that sanitise alike", () => {
    const dotted = mcpModelToolName("docs", "pages.search");
    const underscored = mcpModelToolName("docs", "pages_search");
    expect(dotted).toMatch(PROVIDER_TOOL_NAME);
    expect(dotted).toMatch(/^mcp__docs__pages_search_[0-9a-f]{8}$/);
    expect(dotted).not.toBe(underscored);
    expect(mcpModelToolName("docs", "pages.search")).toBe(dotted);
  });

  it("cut long names to 64 characters with a hash, so two long names differing at the end still differ", () => {
    const long = "x".repeat(120);
    const first = mcpModelToolName("a_very_long_namespace_24", `${long}1`);
    const second = mcpModelToolName("a_very_long_namespace_24", `${long}2`);
    expect(first).toHaveLength(64);
    expect(first).toMatch(PROVIDER_TOOL_NAME);
    expect(first).not.toBe(second);
  });

  it("never let two servers' tools collide", () => {
    // Namespaces have no "__" (McpNamespace) but may end with "_".
    expect(mcpModelToolName("a", "_x")).not.toBe(mcpModelToolName("a_", "x"));
    expect(mcpModelToolName("a", "b_c")).not.toBe(mcpModelToolName("a_b", "c"));
  });
});
