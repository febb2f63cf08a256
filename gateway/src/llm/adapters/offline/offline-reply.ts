/** What the offline model knows about the agent, read from the workspace files in the system prompt. */
export interface OfflineIdentity {
  name: string | undefined;
  role: string | undefined;
  persona: string | undefined;
}

function field(system: string, label: string): string | undefined {
  const match = new RegExp(`\\*\\*${label}:\\*\\*[ \\t]*(.+)`).exec(system);
  return match?.[1]?.trim() || undefined;
}

function fileBody(system: string, file: string): string | undefined {
  const match = new RegExp(`<workspace-file name="${file}">\\n([\\s\\S]*?)\\n</workspace-file>`).exec(system);
  if (!match?.[1]) return undefined;
  return match[1]
    .split("\n")
    .filter((line) => !line.startsWith("#"))
    .join(" ")
    .trim();
}

export function readIdentity(system: string): OfflineIdentity {
  return { name: field(system, "Name"), role: field(system, "Role"), persona: fileBody(system, "SOUL.md") };
}

function firstSentence(text: string): string {
  const match = /^(.{1,200}?[.!?])(\s|$)/.exec(text);
  return (match?.[1] ?? text.slice(0, 200)).trim();
}

/**
 * The offline model's deterministic reply: built from the agent's identity, honest that it is
 * an offline stand-in and never claiming to be a real language model.
 */
export function offlineReply(identity: OfflineIdentity, message: string): string {
  const name = identity.name ?? "an agent without a name";
  const intro = identity.role ? `I'm ${name}, ${identity.role}.` : `I'm ${name}.`;
  const persona = identity.persona ? ` ${firstSentence(identity.persona)}` : "";
  const offlineNote =
    " I'm answering with the built-in offline model, so my replies are canned; set ANTHROPIC_API_KEY on the gateway to connect a real model.";
  const asksIdentity = /\b(who|what)\s+are\s+you\b|\byour\s+name\b|\bintroduce\s+yourself\b/i.test(message);
  if (asksIdentity) return `${intro}${persona}${offlineNote}`;
  const quoted = message.replace(/\s+/g, " ").trim();
  const echo = quoted.length > 80 ? `${quoted.slice(0, 79)}…` : quoted;
  return `${intro} You said: "${echo}".${offlineNote}`;
}

/** Splits text into word tokens that concatenate back to the original exactly. */
export function tokenize(text: string): string[] {
  return text.match(/\S+\s*|\s+/g) ?? [];
}

/** A rough token estimate (≈4 characters per token) for usage reporting. */
export function estimateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}
