import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { startFakeUpstream, type FakeUpstream } from "@workforce/fake-upstream";
import { ATTACHMENT_HEADER, ATTACHMENT_LIMITS, MESSAGE_BODY_MAX_BYTES, SessionHistory, type AttachmentUpload } from "@workforce/protocol";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createProviders } from "../llm/create-providers";
import { readRunEvents, replyText, startTestGateway, TENANT_A, TENANT_B, type TestGateway } from "../test-support/test-gateway";

/** A real 1×1 PNG. */
const PNG = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==", "base64");
const image: AttachmentUpload = { name: "dot.png", mediaType: "image/png", data: PNG.toString("base64") };
const notes: AttachmentUpload = { name: "notes.md", mediaType: "text/markdown", data: Buffer.from("# Plan\nShip attachments by Friday.").toString("base64") };

let upstream: FakeUpstream;
let harness: TestGateway | undefined;
beforeAll(async () => {
  upstream = await startFakeUpstream({ apiKey: "test-key" });
});
afterAll(async () => {
  await upstream.close();
});
afterEach(async () => {
  await harness?.cleanup();
  harness = undefined;
  upstream.reset();
});

async function gateway(model = "claude-fake-1") {
  const providers = createProviders({
    anthropic: { apiKey: "test-key", baseURL: upstream.url },
    openai: { baseURL: upstream.openaiBaseUrl, apiKey: "test-key" },
  });
  const h = await startTestGateway({ providers, config: { defaultModel: "claude-fake-1" } });
  await h.createAgent(TENANT_A, { model });
  harness = h;
  return h;
}

function send(h: TestGateway, body: Record<string, unknown>, tenant = TENANT_A) {
  return h.request("POST", "/v1/agents/ada/runs", { tenant, body: { sessionKey: "s", ...body }, headers: { accept: "text/event-stream" } });
}

interface AnthropicBody {
  messages: { role: string; content: string | { type: string; text?: string; source?: { type: string; media_type: string; data: string } }[] }[];
}

describe("attachments (decision 042)", () => {
  it("stores the files in the workspace, names them in the transcript and gives Claude image and text blocks, again on the next turn", async () => {
    const h = await gateway();
    upstream.enqueue({ kind: "text", text: "A single dot." }, { kind: "text", text: "Still a dot." });
    const events = await readRunEvents(await send(h, { message: "What is in the picture?", attachments: [image, notes] }));
    expect(replyText(events)).toBe("A single dot.");

    const first = upstream.requests[0]!.body as AnthropicBody;
    const content = first.messages.at(-1)!.content;
    expect(content).toEqual([
      { type: "text", text: "What is in the picture?" },
      { type: "image", source: { type: "base64", media_type: "image/png", data: image.data } },
      { type: "text", text: expect.stringContaining("Ship attachments by Friday.") as unknown },
    ]);

    const history = SessionHistory.parse(await (await h.request("GET", "/v1/agents/ada/sessions/s")).json());
    const user = history.entries.find((entry) => entry.type === "user");
    expect(user?.type === "user" && user.attachments).toEqual([
      { id: expect.any(String) as unknown, name: "dot.png", mediaType: "image/png", size: PNG.length },
      { id: expect.any(String) as unknown, name: "notes.md", mediaType: "text/markdown", size: Buffer.from(notes.data, "base64").length },
    ]);
    const uploads = path.join(h.dataDir, TENANT_A, "workspace", "ada", "uploads");
    const files = await readdir(uploads);
    expect(files).toHaveLength(2);
    expect(files.some((file) => file.endsWith("-notes.md"))).toBe(true);
    expect(await readFile(path.join(uploads, files.find((file) => file.endsWith("-dot.png"))!))).toEqual(PNG);

    // The next turn rebuilds the conversation from the transcript: the image is read back from the workspace.
    await readRunEvents(await send(h, { message: "And now?" }));
    const second = upstream.requests[1]!.body as AnthropicBody;
    const earlier = second.messages.find((message) => Array.isArray(message.content) && message.content.some((block) => block.type === "image"));
    expect(earlier?.content).toContainEqual({ type: "image", source: { type: "base64", media_type: "image/png", data: image.data } });
  });

  it("gives an OpenAI-compatible model image_url and text parts", async () => {
    const h = await gateway("openai:gpt-fake-1");
    upstream.enqueue({ kind: "text", text: "I see a dot." });
    await readRunEvents(await send(h, { message: "Describe", attachments: [image, notes] }));
    const body = upstream.requests[0]!.body as { messages: { role: string; content: unknown }[] };
    expect(body.messages.at(-1)).toEqual({
      role: "user",
      content: [
        { type: "text", text: "Describe" },
        { type: "image_url", image_url: { url: `data:image/png;base64,${image.data}` } },
        { type: "text", text: expect.stringContaining("Ship attachments by Friday.") as unknown },
      ],
    });
  });

  it("serves a file only through a session that names it, and only to its tenant", async () => {
    const h = await gateway();
    await h.createAgent(TENANT_B);
    upstream.enqueue({ kind: "text", text: "ok" }, { kind: "text", text: "ok" });
    await readRunEvents(await send(h, { message: "Look", attachments: [image] }));
    await readRunEvents(await send(h, { message: "Other chat", sessionKey: "t" }));
    const history = SessionHistory.parse(await (await h.request("GET", "/v1/agents/ada/sessions/s")).json());
    const user = history.entries.find((entry) => entry.type === "user");
    const id = user?.type === "user" ? user.attachments?.[0]?.id : undefined;
    expect(id).toBeDefined();

    const found = await h.request("GET", `/v1/agents/ada/sessions/s/attachments/${id}`);
    expect(found.status).toBe(200);
    expect(found.headers.get("content-type")).toBe("image/png");
    expect(JSON.parse(decodeURIComponent(found.headers.get(ATTACHMENT_HEADER)!))).toMatchObject({ name: "dot.png" });
    expect(Buffer.from(await found.arrayBuffer())).toEqual(PNG);

    const otherSession = await h.request("GET", `/v1/agents/ada/sessions/t/attachments/${id}`);
    expect(otherSession.status).toBe(404);
    const otherTenant = await h.request("GET", `/v1/agents/ada/sessions/s/attachments/${id}`, { tenant: TENANT_B });
    expect(otherTenant.status).toBe(404);
  });

  it("deletes a chat's files with the chat", async () => {
    const h = await gateway();
    upstream.enqueue({ kind: "text", text: "ok" });
    await readRunEvents(await send(h, { message: "Keep this", attachments: [image, notes] }));
    const uploads = path.join(h.dataDir, TENANT_A, "workspace", "ada", "uploads");
    expect(await readdir(uploads)).toHaveLength(2);
    expect((await h.request("DELETE", "/v1/agents/ada/sessions/s")).status).toBe(204);
    expect(await readdir(uploads)).toEqual([]);
  });

  it("refuses, before anything is written, files that are not what they claim, too many and too large", async () => {
    const h = await gateway();
    const fake = await send(h, { message: "Look", attachments: [{ ...image, data: Buffer.from("<svg onload=alert(1)>").toString("base64") }] });
    expect(fake.status).toBe(400);
    expect(await fake.json()).toMatchObject({ error: { code: "validation_failed", message: expect.stringContaining("dot.png") as unknown } });

    const binary = await send(h, { message: "Read", attachments: [{ ...notes, data: Buffer.from([0xff, 0xfe, 0x00, 0x01]).toString("base64") }] });
    expect(binary.status).toBe(400);

    const many = await send(h, { message: "Many", attachments: Array.from({ length: ATTACHMENT_LIMITS.maxCount + 1 }, () => notes) });
    expect(many.status).toBe(400);

    const large = await send(h, { message: "Large", attachments: [{ ...notes, data: Buffer.alloc(ATTACHMENT_LIMITS.maxBytes + 1, 97).toString("base64") }] });
    expect(large.status).toBe(400);
    expect(await large.json()).toMatchObject({ error: { code: "validation_failed" } });

    // The runs route takes a message with its files, and not a byte beyond what that can need.
    const flood = await send(h, { message: "x".repeat(MESSAGE_BODY_MAX_BYTES) });
    expect(flood.status).toBe(413);

    expect(upstream.requests).toHaveLength(0);
    expect((await h.request("GET", "/v1/agents/ada/sessions/s")).status).toBe(404);
    await expect(readdir(path.join(h.dataDir, TENANT_A, "workspace", "ada", "uploads"))).rejects.toThrow(/ENOENT/);
  });
});
