import { ensureContained } from "@workforce/protocol/tenant-path";
import type { ToolContext } from "./tool";

/**
 * Resolves a path the model gave inside the agent's own workspace: lexical checks by the tenant-path
 * helper (traversal, encodings, absolute paths), then the real-path check against symlink escapes.
 */
export async function resolveWorkspacePath(context: ToolContext, relativePath: string | undefined): Promise<string> {
  const wanted = relativePath?.trim();
  if (!wanted || wanted === "." || wanted === "./") return ensureContained(context.agent.workspace, context.agent.workspace);
  return ensureContained(context.agent.workspace, context.agent.workspaceFile(wanted));
}
