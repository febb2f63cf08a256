import type { RunIntegrations } from "@workforce/protocol";
import type { Logger } from "../logger";
import type { Tool } from "./tool";

/** The run a tool source opens its tools for. */
export interface RunToolRequest {
  runId: string;
  tenantId: string;
  agent: string;
  integrations: RunIntegrations;
  signal: AbortSignal;
}

/** The tools one source offers one run, and how to let go of what it opened for them. */
export interface RunToolset {
  tools: readonly Tool[];
  close(): void | Promise<void>;
}

/**
 * Where a run's integration tools come from (MCP servers, Composio, the web tools): one source per
 * kind, each reading its part of the run's integrations. A source that cannot reach its backend
 * offers fewer tools (and logs why); it never fails the run.
 */
export interface RunToolSource {
  open(request: RunToolRequest): Promise<RunToolset>;
}

const EMPTY: RunToolset = { tools: [], close: () => undefined };

/** Opens every source for a run; their tools follow the base tools, and the first tool of a name wins. */
export function combineToolSources(sources: readonly RunToolSource[], logger: Logger): RunToolSource {
  return {
    async open(request) {
      if (sources.length === 0) return EMPTY;
      const opened = await Promise.all(
        sources.map((source) =>
          source.open(request).catch((error: unknown) => {
            logger.warn(`run ${request.runId}: a tool source failed to open; its tools are not offered (${error instanceof Error ? error.message : String(error)})`);
            return EMPTY;
          }),
        ),
      );
      return {
        tools: opened.flatMap((set) => set.tools),
        async close() {
          await Promise.allSettled(opened.map(async (set) => set.close()));
        },
      };
    },
  };
}

/** The base tools plus a run's, without duplicate names (a base tool keeps its name). */
export function mergeTools(base: readonly Tool[], extra: readonly Tool[], logger: Logger, runId: string): readonly Tool[] {
  if (extra.length === 0) return base;
  const names = new Set(base.map((tool) => tool.spec.name));
  const merged = [...base];
  for (const tool of extra) {
    if (names.has(tool.spec.name)) {
      logger.warn(`run ${runId}: two tools are named "${tool.spec.name}"; the second is not offered`);
      continue;
    }
    names.add(tool.spec.name);
    merged.push(tool);
  }
  return merged;
}
