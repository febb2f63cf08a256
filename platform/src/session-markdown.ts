import type { SessionHistory } from "@workforce/protocol";

function fence(text: string): string {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((match) => match[0].length));
  const ticks = "`".repeat(longest + 1);
  return `${ticks}\n${text}\n${ticks}`;
}

/** A readable Markdown transcript of one session: who said what, tool calls and their results. */
export function sessionToMarkdown(history: SessionHistory, agentName: string): string {
  const { session, entries } = history;
  const lines = [
    `# ${session.title || "Untitled session"}`,
    "",
    `- Agent: ${agentName}`,
    `- Session: \`${session.key}\``,
    `- Started: ${session.createdAt}`,
    `- Last message: ${session.updatedAt}`,
    `- Tokens: ${session.inputTokens} in, ${session.outputTokens} out`,
    "",
  ];
  for (const entry of entries) {
    if (entry.type === "user") {
      lines.push(`## You · ${entry.timestamp}`, "", entry.content.map((block) => block.text).join("\n\n"), "");
    } else if (entry.type === "assistant") {
      lines.push(`## ${agentName} · ${entry.timestamp}`, "");
      for (const block of entry.content) {
        if (block.type === "text") lines.push(block.text, "");
        else lines.push(`**Tool call** \`${block.name}\``, "", fence(JSON.stringify(block.input, null, 2)), "");
      }
      if (entry.interrupted) lines.push(`> Interrupted: ${entry.interrupted.message}`, "");
    } else if (entry.type === "tool-result") {
      lines.push(`**Tool result** \`${entry.name}\`${entry.isError ? " (error)" : ""}`, "", fence(entry.output), "");
    } else {
      lines.push(`> Earlier messages were summarised: ${entry.summary}`, "");
    }
  }
  return lines.join("\n").trimEnd() + "\n";
}
