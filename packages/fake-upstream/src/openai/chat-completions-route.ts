import { deliverOnce, sendJson, writeStream } from "../delivery";
import type { ModelRequest } from "../model-request";
import { bearerToken, estimateInputTokens, type RouteContext } from "../route-context";
import { openaiErrorBody } from "./errors";
import { renderCompletion, renderCompletionStream } from "./render-completion";
import { openaiConversation, openaiRequestSchema } from "./request-schema";

/** Checks `Authorization: Bearer`; on failure sends the real 401 body and returns false. */
export function openaiAuthorized(context: RouteContext, requestId: string): boolean {
  const key = bearerToken(context.recorded.headers.authorization);
  const failure =
    key === undefined || key === ""
      ? "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
      : context.apiKey !== null && !context.apiKey.includes(key)
        ? "Incorrect API key provided."
        : undefined;
  if (failure === undefined) return true;
  sendJson(context.response, 401, { "x-request-id": requestId }, openaiErrorBody(401, failure));
  return false;
}

/** `POST /v1/chat/completions`: validates, consumes one scripted reply and answers as JSON or `data:` chunks. */
export function handleOpenaiChatCompletions(context: RouteContext): void {
  const requestId = context.nextId("req_fake_");
  if (!openaiAuthorized(context, requestId)) return;
  const requestHeaders = { "x-request-id": requestId };
  const parsed = openaiRequestSchema.safeParse(context.recorded.body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const message = issue ? `${issue.path.join(".") || "body"}: ${issue.message}` : "invalid request body";
    sendJson(context.response, 400, requestHeaders, openaiErrorBody(400, message));
    return;
  }
  const body = parsed.data;
  const request: ModelRequest = {
    protocol: "openai",
    model: body.model,
    stream: body.stream === true,
    ...openaiConversation(body),
    inputTokens: estimateInputTokens(context.bodyBytes),
    recorded: context.recorded,
  };
  const reply = context.responder.next(request);
  const { response } = context;
  if (reply.kind === "status") {
    const headers: Record<string, string> = { ...requestHeaders };
    if (reply.retryAfterSeconds !== undefined) headers["retry-after"] = String(reply.retryAfterSeconds);
    sendJson(response, reply.status, headers, reply.body ?? openaiErrorBody(reply.status, reply.message));
    return;
  }

  const ids = {
    completionId: context.nextId("chatcmpl-fake"),
    callIds: reply.toolCalls.map((call) => call.id ?? context.nextId("call_fake_")),
    created: Math.floor(Date.now() / 1000),
  };
  if (request.stream) {
    response.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", ...requestHeaders });
    const frames = renderCompletionStream(reply, ids, body.model, body.stream_options?.include_usage === true);
    writeStream(response, frames, reply.delayMs, reply.fault);
    return;
  }
  deliverOnce(response, reply.tokenCount, reply.delayMs, reply.fault, {
    ok: () => sendJson(response, 200, requestHeaders, renderCompletion(reply, ids, body.model)),
    overloaded: () => sendJson(response, 503, requestHeaders, openaiErrorBody(503)),
    malformed: () => sendJson(response, 200, requestHeaders, `{"id":"${ids.completionId}","object":"chat.completion","choices":[`, true),
  });
}
