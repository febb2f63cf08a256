import { AppError, ERROR_STATUS, RUN_ID_HEADER, SESSION_KEY_HEADER, SessionKey, type ErrorCode, type RunEvent, type Usage } from "@workforce/protocol";
import { assertSlug } from "@workforce/protocol/tenant-path";
import { Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { z } from "zod";
import type { SubmitRun, SubmittedRun } from "../../runs/run-forwarding";
import type { GatewayEnv } from "../gateway-env";
import { readJsonBody } from "../request-input";

const MessageContent = z.union([z.string(), z.array(z.looseObject({ type: z.string(), text: z.string().optional() })), z.null()]);

const ChatCompletionRequest = z.looseObject({
  model: z.string().regex(/^agent:[a-z0-9][a-z0-9-]{0,63}$/, 'must be "agent:<slug>"'),
  messages: z.array(z.looseObject({ role: z.string(), content: MessageContent.optional() })).min(1),
  stream: z.boolean().nullish(),
  stream_options: z.looseObject({ include_usage: z.boolean().nullish() }).nullish(),
});

function lastUserText(messages: z.output<typeof ChatCompletionRequest>["messages"]): string {
  const last = [...messages].reverse().find((message) => message.role === "user");
  const content = last?.content;
  const text = typeof content === "string" ? content : (content ?? []).flatMap((part) => (part.type === "text" && part.text ? [part.text] : [])).join("\n");
  if (!text.trim()) throw new AppError("validation_failed", "body.messages: needs a user message with text");
  return text;
}

function sessionKeyFrom(header: string | undefined): string | undefined {
  const value = header?.trim();
  if (!value) return undefined;
  const parsed = SessionKey.safeParse(value);
  if (!parsed.success) throw new AppError("invalid_session_key", `X-Session-Key ${parsed.error.issues[0]?.message ?? "is invalid"}`);
  return parsed.data;
}

function completionUsage(usage: Usage) {
  return { prompt_tokens: usage.inputTokens, completion_tokens: usage.outputTokens, total_tokens: usage.inputTokens + usage.outputTokens };
}

/**
 * `POST /v1/chat/completions`: any OpenAI client can talk to a tenant's agent (`model: "agent:<slug>"`).
 * The gateway keeps the conversation: only the last user message is sent, into the session named
 * by X-Session-Key (a new session otherwise, whose key is returned in the same header).
 */
export function chatCompletionsRoutes(deps: { submitRun: SubmitRun }): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>();
  app.post("/", async (c) => {
    const body = await readJsonBody(c, ChatCompletionRequest);
    const slug = assertSlug(body.model.slice("agent:".length));
    const sessionKey = sessionKeyFrom(c.req.header(SESSION_KEY_HEADER));
    const run = await deps.submitRun(c.get("tenantId"), slug, { message: lastUserText(body.messages), sessionKey }, { source: "openai" });
    const id = `chatcmpl-${run.runId}`;
    const created = Math.floor(Date.now() / 1000);
    const headers = { [SESSION_KEY_HEADER]: run.sessionKey, [RUN_ID_HEADER]: run.runId };
    if (body.stream) return streamCompletion(run, { id, created, model: body.model, includeUsage: body.stream_options?.include_usage === true, headers });

    let text = "";
    let end: Extract<RunEvent, { type: "run-end" }> | undefined;
    for await (const event of run.events.follow(0)) {
      if (event.type === "text-delta") text += event.delta;
      if (event.type === "run-end") end = event;
    }
    if (end?.status === "error") {
      const code = (end.error?.code ?? "internal_error") as ErrorCode;
      return c.json({ error: end.error }, (ERROR_STATUS[code] ?? 502) as ContentfulStatusCode, headers);
    }
    return c.json(
      {
        id,
        object: "chat.completion",
        created,
        model: body.model,
        choices: [{ index: 0, message: { role: "assistant", content: text }, finish_reason: "stop", logprobs: null }],
        usage: completionUsage(end?.usage ?? { inputTokens: 0, outputTokens: 0 }),
      },
      200,
      headers,
    );
  });
  return app;
}

function streamCompletion(
  run: SubmittedRun,
  options: { id: string; created: number; model: string; includeUsage: boolean; headers: Record<string, string> },
): Response {
  const encoder = new TextEncoder();
  const stop = new AbortController();
  const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) =>
    `data: ${JSON.stringify({ id: options.id, object: "chat.completion.chunk", created: options.created, model: options.model, choices, ...extra })}\n\n`;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      const send = (text: string) => {
        if (!stop.signal.aborted) controller.enqueue(encoder.encode(text));
      };
      void (async () => {
        try {
          send(chunk([{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }]));
          for await (const event of run.events.follow(0, stop.signal)) {
            if (event.type === "text-delta") send(chunk([{ index: 0, delta: { content: event.delta }, finish_reason: null }]));
            if (event.type !== "run-end") continue;
            if (event.status === "error") send(`data: ${JSON.stringify({ error: event.error })}\n\n`);
            else send(chunk([{ index: 0, delta: {}, finish_reason: "stop" }]));
            if (options.includeUsage) send(chunk([], { usage: completionUsage(event.usage) }));
            send("data: [DONE]\n\n");
          }
        } finally {
          if (!stop.signal.aborted) {
            stop.abort();
            controller.close();
          }
        }
      })();
    },
    cancel() {
      stop.abort();
    },
  });
  return new Response(body, { headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", ...options.headers } });
}
