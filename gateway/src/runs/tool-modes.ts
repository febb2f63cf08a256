import type { AgentToolMode, RunIntegrations } from "@workforce/protocol";
import type { Tool } from "../tools/tool";

/** What a run may do with its tools (issue 15): which are offered to the model, and what each call needs. */
export interface ToolPolicy {
  /** The tools the model is told about: every tool but those in `deny` mode. */
  offered: readonly Tool[];
  /** The mode of a call by the tool's model-visible name; a name the run does not know is `allow` unless named `deny` (it fails as an unknown tool). */
  modeOf(name: string): AgentToolMode;
}

const STRICTNESS: Record<AgentToolMode, number> = { allow: 0, ask: 1, deny: 2 };
const stricter = (a: AgentToolMode, b: AgentToolMode): AgentToolMode => (STRICTNESS[a] >= STRICTNESS[b] ? a : b);

/**
 * Applies an agent's tool modes (`integrations.toolModes`) and its grants' modes to a run's tools;
 * the stricter of the two wins, so a grant's `ask` is never loosened by a mode nobody set for
 * that tool. A run without integrations (hooks, the OpenAI-compatible endpoint) allows everything:
 * nobody could be asked.
 */
export function toolPolicy(tools: readonly Tool[], integrations: RunIntegrations | undefined): ToolPolicy {
  const modes = integrations?.toolModes ?? {};
  const named = (name: string | undefined): AgentToolMode | undefined => (name !== undefined && Object.hasOwn(modes, name) ? modes[name] : undefined);
  const byName = new Map<string, AgentToolMode>();
  for (const tool of tools) {
    const set = named(tool.spec.name) ?? named(tool.alsoKnownAs) ?? "allow";
    byName.set(tool.spec.name, integrations ? stricter(set, tool.grantMode ?? "allow") : "allow");
  }
  return {
    offered: tools.filter((tool) => byName.get(tool.spec.name) !== "deny"),
    modeOf: (name) => byName.get(name) ?? (named(name) === "deny" ? "deny" : "allow"),
  };
}
