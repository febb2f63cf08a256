import type { SessionSummary } from "@workforce/protocol";
import type { ApiClient } from "../api/client";
import { download } from "../ui/download";

/**
 * Downloads a session through the platform's export endpoint, which writes the Markdown with the
 * agent's display name and names the file; we only fall back to our own name when it does not.
 */
export async function exportSession(api: ApiClient, agent: string, session: SessionSummary, format: "json" | "markdown"): Promise<void> {
  const { blob, filename } = await api.exportSession(agent, session.key, format);
  const fallback = `${agent}-${session.title || session.key}`.replace(/[^A-Za-z0-9._-]+/g, "-").slice(0, 80);
  download(filename ?? `${fallback}.${format === "json" ? "json" : "md"}`, blob);
}
