/**
 * A second (third, …) gateway process for the shared-storage tests: opens sessions and appends to
 * them through its own SessionStore, on the data dir it is given, as fast as it can.
 * Usage: node --import tsx cluster-worker.ts <dataDir> <tenantId> <agent> <name> <count>
 */
import { randomUUID } from "node:crypto";
import type { TranscriptEntry } from "@workforce/protocol";
import { createConsoleLogger } from "../logger";
import { createSessionStore } from "../sessions/session-store";

const [dataDir, tenantId, agent, name, count] = process.argv.slice(2);
if (!dataDir || !tenantId || !agent || !name || !count) throw new Error("usage: cluster-worker <dataDir> <tenantId> <agent> <name> <count>");
const store = createSessionStore({ dataDir, logger: createConsoleLogger(`[worker ${name}]`), now: () => new Date(), eagerMaxSessions: 20, minJournalLines: 30 });
const ref = { tenantId, agent };

function userEntry(text: string): TranscriptEntry {
  return { type: "user", id: randomUUID(), parentId: null, timestamp: new Date().toISOString(), content: [{ type: "text", text }] };
}

for (let index = 0; index < Number(count); index += 1) {
  await store.open(ref, "shared", "shared session");
  await store.append(ref, "shared", [userEntry(`${name} ${index} ${"long line ".repeat(index % 7 === 0 ? 2_000 : 5)}`)]);
  const own = `own-${name}-${index}`;
  await store.open(ref, own, `${name} ${index}`);
  await store.append(ref, own, [userEntry(`${name} ${index}`)]);
  if (index % 10 === 0) await store.rename(ref, "shared", `renamed by ${name} ${index}`);
}
await store.flushAll();
