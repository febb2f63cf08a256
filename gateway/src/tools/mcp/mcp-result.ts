import type { CallToolResult, ContentBlock } from "@modelcontextprotocol/sdk/types.js";

/**
 * The text of a tool result as the model reads it: text parts joined; images, audio and binary
 * resources described (type and size), never inlined (base64 would fill the context for nothing);
 * structured content as JSON when there is no text. Cut at `maxChars` with a marker saying so.
 */
export function mcpResultText(result: Pick<CallToolResult, "content" | "structuredContent">, maxChars: number): string {
  const parts = result.content.map(describeContent);
  if (parts.length === 0 && result.structuredContent !== undefined) parts.push(JSON.stringify(result.structuredContent));
  const text = parts.join("\n");
  if (text.length <= maxChars) return text;
  return `${text.slice(0, maxChars)}\n[result cut: ${text.length - maxChars} more characters not shown]`;
}

function describeContent(block: ContentBlock): string {
  switch (block.type) {
    case "text":
      return block.text;
    case "image":
    case "audio":
      return `[${block.type}: ${block.mimeType}, ${base64Size(block.data)}, not shown]`;
    case "resource_link":
      return `[resource link: ${block.name} <${block.uri}>]`;
    case "resource": {
      const resource = block.resource;
      if ("text" in resource && typeof resource.text === "string") return `[resource <${resource.uri}>]\n${resource.text}`;
      const blob = "blob" in resource && typeof resource.blob === "string" ? resource.blob : "";
      return `[resource <${resource.uri}>: ${resource.mimeType ?? "binary"}, ${base64Size(blob)}, not shown]`;
    }
  }
}

function base64Size(data: string): string {
  const bytes = Math.floor((data.length * 3) / 4);
  return bytes < 1024 ? `${bytes} bytes` : `${Math.round(bytes / 1024)} KB`;
}
