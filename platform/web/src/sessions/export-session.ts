import type { SessionSummary } from "@workforce/protocol";
import type { ApiClient } from "../api/client";

/**
 * Downloads a session through the platform's export endpoint, which writes the Markdown with the
 * agent's display name and names the file; we only fall back to our own name when it does not.
 */
export async function exportSession(api: ApiClient, agent: string, session: SessionSummary, format: "json" | "markdown"): Promise<void> {
  const { blob, filename } = await api.exportSession(agent, session.key, format);
  const fallback = `${agent}-${session.title || session.key}`.replace(/[^A-Za-z0-9._-]+/g, "-").slice(0, 80);
  download(filename ?? `${fallback}.${format === "json" ? "json" : "md"}`, blob);
}

function download(filename: string, blob: Blob): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
