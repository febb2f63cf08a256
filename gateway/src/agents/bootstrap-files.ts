import { access } from "node:fs/promises";
import type { Agent } from "@workforce/protocol";
import { ensureContained, type AgentPaths } from "@workforce/protocol/tenant-path";
import { makeDirectory } from "../fs/storage-error";
import { writeFileAtomic } from "../fs/atomic-write";
import { fileBytes } from "../fs/disk-bytes";

/** Workspace files injected into the system prompt, in this order. */
export const BOOTSTRAP_FILES = ["IDENTITY.md", "SOUL.md", "AGENTS.md", "USER.md", "TOOLS.md", "MEMORY.md"] as const;
export type BootstrapFile = (typeof BOOTSTRAP_FILES)[number];

/** Files that describe the agent and are rewritten whenever the agent is updated. */
const AGENT_DEFINED: readonly BootstrapFile[] = ["IDENTITY.md", "SOUL.md", "AGENTS.md"];

export function renderIdentity(agent: Pick<Agent, "name" | "role" | "emoji">): string {
  return `# IDENTITY.md - Who am I?\n\n- **Name:** ${agent.name}\n- **Role:** ${agent.role}\n- **Emoji:** ${agent.emoji}\n`;
}

function renderFile(file: BootstrapFile, agent: Agent): string {
  switch (file) {
    case "IDENTITY.md":
      return renderIdentity(agent);
    case "SOUL.md":
      return `# SOUL.md - Persona, tone and boundaries\n\n${agent.persona.trim() || "Be helpful, honest and concise."}\n`;
    case "AGENTS.md":
      return `# AGENTS.md - Operating instructions\n\n${agent.instructions.trim() || "Answer the user's questions within your role."}\n`;
    case "USER.md":
      return "# USER.md - About the people you work with\n\n(Nothing recorded yet.)\n";
    case "TOOLS.md":
      return (
        "# TOOLS.md - Your tools\n\n" +
        "You can read, write, list and search files in your own workspace, and append notes to MEMORY.md.\n" +
        "Paths are relative to your workspace; you cannot reach outside it.\n"
      );
    case "MEMORY.md":
      return "# MEMORY.md - Things worth remembering\n\n";
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}

/**
 * Writes the agent's bootstrap files into `{tenant}/workspace/{slug}/`. Agent-defined files are
 * always rewritten; USER.md, TOOLS.md and MEMORY.md are created once and then belong to the agent.
 * Returns how many bytes the workspace grew (negative when it shrank).
 */
export async function writeBootstrapFiles(tenantRoot: string, paths: AgentPaths, agent: Agent): Promise<number> {
  await makeDirectory(paths.workspace);
  let grown = 0;
  for (const file of BOOTSTRAP_FILES) {
    const target = await ensureContained(tenantRoot, paths.workspaceFile(file));
    if (!AGENT_DEFINED.includes(file) && (await exists(target))) continue;
    const text = renderFile(file, agent);
    const before = await fileBytes(target);
    await writeFileAtomic(target, text);
    grown += Buffer.byteLength(text) - before;
  }
  return grown;
}
