/**
 * The fake model upstream as a child process the bench can reconfigure between phases over IPC
 * (`{ type: "configure", id, defaults }` → `{ type: "configured", id }`). Requests are not
 * recorded, so memory stays flat however long the bench runs.
 */
import { startFakeUpstream, type ReplyDefaults } from "@workforce/fake-upstream";

const defaults = JSON.parse(process.env.FAKE_DEFAULTS ?? "{}") as ReplyDefaults;
const fake = await startFakeUpstream({ apiKey: process.env.FAKE_API_KEY ?? "test-key", recordRequests: false, ...defaults });
process.send?.({ type: "ready", url: fake.url });
process.on("message", (message: { type: string; id: number; defaults: ReplyDefaults }) => {
  if (message.type !== "configure") return;
  fake.configure(message.defaults);
  process.send?.({ type: "configured", id: message.id });
});
process.on("disconnect", () => void fake.close().finally(() => process.exit(0)));
process.once("SIGTERM", () => void fake.close().finally(() => process.exit(0)));
