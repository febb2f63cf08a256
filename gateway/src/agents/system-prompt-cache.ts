import { statSync } from "node:fs";
import type { AgentPaths } from "@workforce/protocol/tenant-path";
import { BOOTSTRAP_FILES } from "./bootstrap-files";
import { buildSystemPrompt } from "./system-prompt";

/** What a stat says about one bootstrap file; undefined when it does not exist. */
type FileStamp = string | undefined;

function stampOf(file: string): FileStamp {
  const stat = statSync(file, { bigint: true, throwIfNoEntry: false });
  return stat ? `${stat.ino}:${stat.size}:${stat.mtimeNs}:${stat.ctimeNs}` : undefined;
}

interface Entry {
  prompt: string;
  stamps: FileStamp[];
}

/**
 * System prompts per agent, so a run does not re-read and re-check six identity files. Each use
 * stats the files (six microsecond system calls, no reads) and rebuilds the prompt when any of
 * them changed, appeared or vanished: an edit made by hand on disk is picked up by the next run,
 * with no time-to-live to wait out. The agent store also drops an agent's prompt when it
 * rewrites its files (create, PATCH, delete), and erasure drops a whole tenant. Errors (a missing
 * IDENTITY.md) are not cached. Bounded: least recently used agents are dropped beyond `maxAgents`.
 */
export class SystemPromptCache {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly maxAgents = 1_000) {}

  async get(tenantId: string, tenantRoot: string, paths: AgentPaths): Promise<string> {
    const key = `${tenantId}/${paths.slug}`;
    const files = BOOTSTRAP_FILES.map((file) => paths.workspaceFile(file));
    // Taken before reading: a file changed during the build shows up as changed next time.
    const stamps = files.map(stampOf);
    const cached = this.entries.get(key);
    this.entries.delete(key);
    if (cached && cached.stamps.every((stamp, index) => stamp === stamps[index])) {
      this.entries.set(key, cached);
      return cached.prompt;
    }
    const prompt = await buildSystemPrompt(tenantRoot, paths);
    this.entries.set(key, { prompt, stamps });
    for (const oldest of this.entries.keys()) {
      if (this.entries.size <= this.maxAgents) break;
      this.entries.delete(oldest);
    }
    return prompt;
  }

  /** Drops one agent's prompt (its files were rewritten or deleted). */
  forgetAgent(tenantId: string, slug: string): void {
    this.entries.delete(`${tenantId}/${slug}`);
  }

  /** Drops every prompt of a tenant being erased. */
  forgetTenant(tenantId: string): void {
    for (const key of [...this.entries.keys()]) if (key.startsWith(`${tenantId}/`)) this.entries.delete(key);
  }
}
