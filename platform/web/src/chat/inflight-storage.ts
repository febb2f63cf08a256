import { z } from "zod";

const STORAGE_KEY = "workforce.inflight";

/** A reply still streaming when the page went away; enough to pick it up again after a reload. */
export const InflightRun = z.object({
  tenantId: z.string(),
  agent: z.string(),
  runId: z.string(),
  lastSeq: z.number().int().nonnegative(),
  sessionKey: z.string().optional(),
  userText: z.string(),
});
export type InflightRun = z.infer<typeof InflightRun>;

/**
 * In-flight runs kept in sessionStorage (per tab, survives reloads). Corrupt or foreign data is
 * dropped rather than trusted.
 */
export class InflightStorage {
  constructor(private readonly storage: Storage | undefined = safeSessionStorage()) {}

  all(): InflightRun[] {
    if (!this.storage) return [];
    try {
      const parsed = z.array(InflightRun).safeParse(JSON.parse(this.storage.getItem(STORAGE_KEY) ?? "[]"));
      return parsed.success ? parsed.data : [];
    } catch {
      return [];
    }
  }

  find(tenantId: string, agent: string): InflightRun | undefined {
    return this.all().find((run) => run.tenantId === tenantId && run.agent === agent);
  }

  save(run: InflightRun): void {
    this.write([...this.all().filter((other) => !(other.tenantId === run.tenantId && other.agent === run.agent)), run]);
  }

  remove(runId: string): void {
    this.write(this.all().filter((run) => run.runId !== runId));
  }

  private write(runs: InflightRun[]): void {
    if (!this.storage) return;
    try {
      if (runs.length === 0) this.storage.removeItem(STORAGE_KEY);
      else this.storage.setItem(STORAGE_KEY, JSON.stringify(runs));
    } catch {
      // Quota or privacy mode: resuming after a reload is a convenience, the live stream is unaffected.
    }
  }
}

function safeSessionStorage(): Storage | undefined {
  try {
    return window.sessionStorage;
  } catch {
    return undefined;
  }
}
