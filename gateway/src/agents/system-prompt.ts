import { readFile } from "node:fs/promises";
import { AppError } from "@workforce/protocol";
import { ensureContained, type AgentPaths } from "@workforce/protocol/tenant-path";
import { isNotFound } from "../fs/errno";
import { BOOTSTRAP_FILES } from "./bootstrap-files";

/** Per-file cap so one runaway MEMORY.md cannot crowd the context window. */
export const MAX_BOOTSTRAP_FILE_CHARS = 20_000;

const PREAMBLE =
  "You are an AI agent running inside the Workforce gateway. Your identity, persona, instructions and memory " +
  "are the workspace files below; stay in that identity. Use your tools for files in your workspace.";

/**
 * Builds the system prompt from the bootstrap files. Refuses to build one without IDENTITY.md:
 * an agent with no identity must fail loudly, never answer as "I have no name".
 */
export async function buildSystemPrompt(tenantRoot: string, paths: AgentPaths, maxFileChars = MAX_BOOTSTRAP_FILE_CHARS): Promise<string> {
  const sections: string[] = [PREAMBLE];
  for (const file of BOOTSTRAP_FILES) {
    const expected = paths.workspaceFile(file);
    let text: string;
    try {
      text = await readFile(await ensureContained(tenantRoot, expected), "utf8");
    } catch (error) {
      if (!isNotFound(error)) throw error;
      if (file === "IDENTITY.md") {
        throw new AppError("agent_identity_missing", `the agent's identity file is missing: expected workspace/${paths.slug}/IDENTITY.md in the tenant's directory`);
      }
      continue;
    }
    if (file === "IDENTITY.md" && text.trim() === "") {
      throw new AppError("agent_identity_missing", `the agent's identity file is empty: workspace/${paths.slug}/IDENTITY.md in the tenant's directory`);
    }
    const capped = text.length > maxFileChars ? `${text.slice(0, maxFileChars)}\n[… ${file} truncated at ${maxFileChars} characters]` : text;
    sections.push(`<workspace-file name="${file}">\n${capped.trim()}\n</workspace-file>`);
  }
  return sections.join("\n\n");
}
