import { describe, expect, it } from "vitest";
import { mcpResultText } from "./mcp-result";

describe("an MCP tool result as the model reads it", () => {
  it("joins text, describes binary content instead of inlining it, and inlines text resources", () => {
    const text = mcpResultText(
      {
        content: [
          { type: "text", text: "Found 2 files." },
          { type: "image", data: "AAAA", mimeType: "image/png" },
          { type: "resource", resource: { uri: "file:///a.txt", text: "alpha" } },
          { type: "resource", resource: { uri: "file:///b.bin", mimeType: "application/zip", blob: "A".repeat(4096) } },
          { type: "resource_link", uri: "https://example.com/c", name: "c" },
        ],
      },
      10_000,
    );
    expect(text).toBe(
      "Found 2 files.\n[image: image/png, 3 bytes, not shown]\n[resource <file:///a.txt>]\nalpha\n[resource <file:///b.bin>: application/zip, 3 KB, not shown]\n[resource link: c <https://example.com/c>]",
    );
  });

  it("gives structured content as JSON when there is no text", () => {
    expect(mcpResultText({ content: [], structuredContent: { total: 3 } }, 100)).toBe('{"total":3}');
  });

  it("cuts a long result with a marker saying how much was left out", () => {
    expect(mcpResultText({ content: [{ type: "text", text: "a".repeat(150) }] }, 100)).toBe(`${"a".repeat(100)}\n[result cut: 50 more characters not shown]`);
  });
});
