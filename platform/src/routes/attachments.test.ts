import { startFakeUpstream, type FakeUpstream } from "@workforce/fake-upstream";
import { ATTACHMENT_LIMITS, type AttachmentUpload } from "@workforce/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGatewayProcess, type GatewayProcess } from "../test-support/gateway-process";
import { caller, createTestPlatform, errorOf, joinAs, signUp, type TestPlatform } from "../test-support/test-platform";
import type { AuditEntryView } from "./audit-log";

const PNG = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==", "base64");
const image: AttachmentUpload = { name: "chart.png", mediaType: "image/png", data: PNG.toString("base64") };
const notes: AttachmentUpload = { name: "notes.txt", mediaType: "text/plain", data: Buffer.from("Quarterly numbers are up 12%.").toString("base64") };

let upstream: FakeUpstream;
let gateway: GatewayProcess;
let platform: TestPlatform;
let call: ReturnType<typeof caller>;
type Person = { token: string; userId: string; tenantId: string };
let ada: Person;
let mia: Person;
let adam: Person;
let eve: Person;
let sessionKey: string;
let ids: string[];

const as = (who: Person, tenant = ada.tenantId) => ({ token: who.token, headers: { "x-tenant-id": tenant } });

/** The reply's text, from an SSE answer's text deltas. */
function replyOf(stream: string): string {
  return [...stream.matchAll(/^data: (\{"type":"text-delta".*)$/gm)].map((match) => (JSON.parse(match[1]!) as { delta: string }).delta).join("");
}

interface UserEntry {
  type: string;
  attachments?: { id: string; name: string; mediaType: string; size: number }[];
}

beforeAll(async () => {
  upstream = await startFakeUpstream({ apiKey: "upstream-key" });
  gateway = await startGatewayProcess({
    hookToken: "attachments-hook-token-0123456789",
    env: { ANTHROPIC_API_KEY: "upstream-key", ANTHROPIC_BASE_URL: upstream.url, WORKFORCE_DEFAULT_MODEL: "claude-fake-1" },
  });
  platform = await createTestPlatform({ gatewayUrl: gateway.url, hookToken: gateway.hookToken });
  call = caller(platform);
  ada = await signUp(platform, "ada@example.com");
  mia = await joinAs(platform, ada, "mia@example.com", "member");
  adam = await joinAs(platform, ada, "adam@example.com", "admin");
  eve = await signUp(platform, "eve@example.com");
  await call("POST", "/api/agents", { token: ada.token, body: { name: "Ada", role: "Analyst" } });
  await call("POST", "/api/agents", { token: eve.token, body: { name: "Ada", role: "Analyst" } });

  upstream.enqueue({ kind: "text", text: "A chart going up." });
  const sent = await call("POST", "/api/agents/ada/messages", { ...as(ada), body: { message: "What does this show?", attachments: [image, notes] } });
  expect(sent.status).toBe(200);
  const stream = await sent.text();
  expect(replyOf(stream)).toBe("A chart going up.");
  sessionKey = (JSON.parse(/event: run-start\ndata: (.*)\n/.exec(stream)![1]!) as { sessionKey: string }).sessionKey;
  const history = (await (await call("GET", `/api/agents/ada/sessions/${sessionKey}`, as(ada))).json()) as { entries: UserEntry[] };
  ids = history.entries.find((entry) => entry.type === "user")!.attachments!.map((attachment) => attachment.id);
}, 120_000);
afterAll(async () => {
  await platform?.close();
  await gateway?.stop();
  await upstream?.close();
});

describe("attachments through the platform (decision 042)", () => {
  it("reach the model as an image block and a text block through the real gateway and SDK", () => {
    const body = upstream.requests.at(-1)!.body as { messages: { role: string; content: { type: string; text?: string; source?: { data: string; media_type: string } }[] }[] };
    const content = body.messages.at(-1)!.content;
    expect(content.find((block) => block.type === "image")?.source).toEqual({ type: "base64", media_type: "image/png", data: image.data });
    expect(content.some((block) => block.type === "text" && block.text?.includes("Quarterly numbers are up 12%."))).toBe(true);
    expect(ids).toHaveLength(2);
  });

  it("serves the stored files to the chat's owner: an image inline, a text file as a download", async () => {
    const shown = await call("GET", `/api/agents/ada/sessions/${sessionKey}/attachments/${ids[0]}`, as(ada));
    expect(shown.status).toBe(200);
    expect(shown.headers.get("content-type")).toBe("image/png");
    expect(shown.headers.get("content-disposition")).toBe("inline; filename*=UTF-8''chart.png");
    expect(Buffer.from(await shown.arrayBuffer())).toEqual(PNG);

    const text = await call("GET", `/api/agents/ada/sessions/${sessionKey}/attachments/${ids[1]}`, as(ada));
    expect(text.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    expect(text.headers.get("content-disposition")).toMatch(/^attachment;/);
    expect(await text.text()).toBe("Quarterly numbers are up 12%.");
  });

  it("hides them from a member who does not own the chat and from other organisations; an admin's read is audited", async () => {
    const path = `/api/agents/ada/sessions/${sessionKey}/attachments/${ids[0]}`;
    expect((await call("GET", path, as(mia))).status).toBe(404);
    expect((await call("GET", path, as(eve, eve.tenantId))).status).toBe(404);
    expect((await call("GET", path, as(ada, eve.tenantId))).status).toBe(403);
    expect((await call("GET", `/api/agents/ada/sessions/${sessionKey}/attachments/not-one-of-its-files`, as(ada))).status).toBe(404);
    expect((await call("GET", `/api/agents/ada/sessions/${sessionKey}/attachments/..%2F..%2Fsecret`, as(ada))).status).toBe(404);

    expect((await call("GET", path, as(adam))).status).toBe(200);
    const audit = (await (await call("GET", "/api/audit?action=session.read", as(ada))).json()) as { entries: AuditEntryView[] };
    expect(audit.entries.some((entry) => JSON.stringify(entry.details).includes(ids[0]!))).toBe(true);
  });

  it("refuses files over the limits at the platform, before the gateway or the model sees them", async () => {
    const before = upstream.requests.length;
    const tooMany = await call("POST", "/api/agents/ada/messages", { ...as(ada), body: { message: "Many", attachments: Array.from({ length: ATTACHMENT_LIMITS.maxCount + 1 }, () => notes) } });
    expect(tooMany.status).toBe(400);
    expect((await errorOf(tooMany)).message).toMatch(/^attachments: at most 4 files/);

    const wrongType = await call("POST", "/api/agents/ada/messages", { ...as(ada), body: { message: "Run it", attachments: [{ ...notes, name: "tool.exe", mediaType: "application/x-msdownload" }] } });
    expect(wrongType.status).toBe(400);

    const large = await call("POST", "/api/agents/ada/messages", { ...as(ada), body: { message: "Large", attachments: [{ ...notes, data: Buffer.alloc(ATTACHMENT_LIMITS.maxBytes + 3, 97).toString("base64") }] } });
    expect(large.status).toBe(400);

    // Checked by the gateway (the platform passes the bytes on unread): a "PNG" that is not one.
    const fake = await call("POST", "/api/agents/ada/messages", { ...as(ada), body: { message: "Look", attachments: [{ ...image, data: Buffer.from("<script>alert(1)</script>").toString("base64") }] } });
    expect(fake.status).toBe(400);
    expect((await errorOf(fake)).code).toBe("validation_failed");
    expect(upstream.requests.length).toBe(before);
  });

  it("takes a message with the largest files allowed, and refuses a body beyond that with 413", async () => {
    const big = Buffer.alloc(ATTACHMENT_LIMITS.maxBytes, 97).toString("base64");
    upstream.enqueue({ kind: "text", text: "Read them all." });
    const full = await call("POST", "/api/agents/ada/messages", {
      ...as(ada),
      body: { message: "Four big files", sessionKey, attachments: Array.from({ length: ATTACHMENT_LIMITS.maxCount }, (_, index) => ({ ...notes, name: `part-${index}.txt`, data: big })) },
    });
    expect(full.status).toBe(200);
    expect(replyOf(await full.text())).toBe("Read them all.");

    const flood = await call("POST", "/api/agents/ada/messages", { ...as(ada), body: { message: "x".repeat(8 * 1024 * 1024) } });
    expect(flood.status).toBe(413);
  });
});
