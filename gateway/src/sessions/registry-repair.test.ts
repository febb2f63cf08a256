import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { SessionSummary } from "@workforce/protocol";
import { lockOwnersDirPath, tenantPaths } from "@workforce/protocol/tenant-path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFileLocks } from "../fs/file-lock";
import { silentLogger } from "../logger";
import { reconcileWithTranscripts } from "./registry-repair";

const TENANT = "66666666-6666-4666-8666-666666666666";
const COUNT = 10_000;

function summary(index: number): SessionSummary {
  const at = "2026-12-01T10:00:00.000Z";
  return {
    key: `k${index}`,
    sessionId: `00000000-0000-4000-8000-${String(index).padStart(12, "0")}`,
    title: `Question ${index}`,
    createdAt: at,
    updatedAt: at,
    model: null,
    inputTokens: 0,
    outputTokens: 0,
    messageCount: 2,
    lastMessagePreview: `Answer ${index}`,
  };
}

/** The registry's map, counting the entries it hands out between two turns of the event loop. */
class CountingMap extends Map<string, SessionSummary> {
  handedOut = 0;
  mostInOneTurn = 0;
  private sinceTurn = 0;
  private watching = false;

  watch(): () => void {
    this.watching = true;
    const turn = () => {
      this.sinceTurn = 0;
      if (this.watching) setImmediate(turn);
    };
    setImmediate(turn);
    return () => {
      this.watching = false;
    };
  }

  private count<T>(items: IterableIterator<T>): IterableIterator<T> {
    const generator = function* (this: CountingMap) {
      for (const item of items) {
        this.handedOut += 1;
        this.sinceTurn += 1;
        this.mostInOneTurn = Math.max(this.mostInOneTurn, this.sinceTurn);
        yield item;
      }
    };
    return generator.call(this);
  }

  override [Symbol.iterator]() {
    return this.count(super[Symbol.iterator]());
  }
  override entries() {
    return this.count(super.entries());
  }
  override values() {
    return this.count(super.values());
  }
  override keys() {
    return this.count(super.keys());
  }
}

let dataDir: string;
beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), "registry-repair-"));
});
afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

describe("repairing a large registry from its transcripts", () => {
  it("keeps the event loop turning while it checks 10,000 sessions, and drops only the one whose transcript is gone", async () => {
    const paths = tenantPaths(dataDir, TENANT).agent("scale");
    await mkdir(paths.sessionsDir, { recursive: true });
    const sessions = new CountingMap();
    for (let index = 0; index < COUNT; index += 1) {
      const session = summary(index);
      sessions.set(session.key, session);
      // A registry entry with no transcript behind it (deleted by hand, or a crash mid-delete).
      if (index !== 1234) await writeFile(paths.transcript(session.sessionId), "");
    }
    const locks = createFileLocks({ logger: silentLogger, ownerDir: lockOwnersDirPath(dataDir) });

    const stop = sessions.watch();
    const changed = await reconcileWithTranscripts(paths, sessions, { logger: silentLogger, locks });
    stop();

    expect(changed).toBe(true);
    expect(sessions.size).toBe(COUNT - 1);
    expect(sessions.has("k1234")).toBe(false);
    expect(sessions.get("k9999")).toEqual(summary(9999));
    // Every session was looked at, but never all of them in one turn of the event loop (the
    // repair once passed over all of them at once, holding the gateway for ~0.4 s at 100,000).
    expect(sessions.handedOut).toBeGreaterThanOrEqual(COUNT);
    expect(sessions.mostInOneTurn).toBeLessThanOrEqual(2_000);
  });
});
