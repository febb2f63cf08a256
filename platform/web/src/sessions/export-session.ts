import type { SessionHistory, SessionSummary } from "@workforce/protocol";
import type { ApiClient } from "../api/client";

/**
 * Downloads a session. The API has no export endpoint, so the export is built in the browser from
 * `GET /api/agents/:slug/sessions/:key`: JSON is that answer as is, Markdown is the readable text.
 */
export async function exportSession(api: ApiClient, agent: string, session: SessionSummary, format: "json" | "markdown"): Promise<void> {
  const history = await api.getSession(agent, session.key);
  const base = `${agent}-${session.title || session.key}`.replace(/[^A-Za-z0-9._-]+/g, "-").slice(0, 80);
  if (format === "json") download(`${base}.json`, "application/json", JSON.stringify(history, null, 2));
  else download(`${base}.md`, "text/markdown", sessionToMarkdown(agent, history));
}

export function sessionToMarkdown(agent: string, history: SessionHistory): string {
  const lines = [`# ${history.session.title || "Chat"}`, "", `Agent: ${agent} · started ${history.session.createdAt}`, ""];
  for (const entry of history.entries) {
    if (entry.type === "user") {
      lines.push("## You", "", entry.content.map((block) => block.text).join(""), "");
    } else if (entry.type === "assistant") {
      lines.push(`## ${agent}`, "");
      for (const block of entry.content) {
        if (block.type === "text") lines.push(block.text, "");
        else lines.push(`> Tool call: \`${block.name}\``, "");
      }
      if (entry.interrupted) lines.push(`> Interrupted (${entry.interrupted.code}): ${entry.interrupted.message}`, "");
    } else if (entry.type === "tool-result") {
      lines.push(`> Tool result (${entry.name})${entry.isError ? " failed" : ""}:`, "", "```", entry.output, "```", "");
    }
  }
  return lines.join("\n");
}

function download(filename: string, type: string, content: string): void {
  const url = URL.createObjectURL(new Blob([content], { type }));
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
