import { describe, expect, it } from "vitest";
import { McpServerInput } from "./mcp-api";

describe("an MCP server's URL", () => {
  it("is refused with credentials in it, which members and the audit log would see", () => {
    const result = McpServerInput.safeParse({ name: "Tools", namespace: "tools", url: "https://bob:hunter2@tools.example/mcp" });
    expect(result.success).toBe(false);
    expect(JSON.stringify(result.error?.issues)).toContain("put credentials in the headers");
    expect(McpServerInput.safeParse({ name: "Tools", namespace: "tools", url: "https://tools.example/mcp" }).success).toBe(true);
  });
});
