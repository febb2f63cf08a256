import { deliverOnce, sendJson, writeStream } from "../delivery";
import type { ModelRequest } from "../model-request";
import { bearerToken, estimateInputTokens, type RouteContext } from "../route-context";
import type { StatusScript } from "../scripted-response";
import { anthropicErrorBody } from "./errors";
import { renderMessage, renderMessageStream } from "./render-message";
import { anthropicConversation, anthropicRequestSchema } from "./request-schema";

/**
 * Checks the Anthropic credentials and `anthropic-version`; on failure sends the real error and returns false.
 * Accepts `x-api-key` or, as OAuth clients send, `Authorization: Bearer`.
 */
export function anthropicAuthorized(context: RouteContext, requestId: string): boolean {
  const { headers } = context.recorded;
  const header = headers["x-api-key"];
  const key = (typeof header === "string" ? header : undefined) ?? bearerToken(headers.authorization);
  const failure =
    key === undefined || key === ""
      ? "x-api-key header is required"
      : context.apiKey !== null && !context.apiKey.includes(key)
        ? "invalid x-api-key"
        : undefined;
  if (failure !== undefined) {
    sendJson(context.response, 401, { "request-id": requestId }, anthropicErrorBody(401, requestId, failure));
    return false;
  }
  if (headers["anthropic-version"] === undefined) {
    sendJson(context.response, 400, { "request-id": requestId }, anthropicErrorBody(400, requestId, "anthropic-version: header is required"));
    return false;
  }
  return true;
}

/** `POST /v1/messages`: validates, consumes one scripted reply and answers as JSON or SSE. */
export function handleAnthropicMessages(context: RouteContext): void {
  const requestId = context.nextId("req_fake_");
  if (!anthropicAuthorized(context, requestId)) return;
  const parsed = anthropicRequestSchema.safeParse(context.recorded.body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const message = issue ? `${issue.path.join(".") || "body"}: ${issue.message}` : "invalid request body";
    sendJson(context.response, 400, { "request-id": requestId }, anthropicErrorBody(400, requestId, message));
    return;
  }
  const body = parsed.data;
  const request: ModelRequest = {
    protocol: "anthropic",
    model: body.model,
    stream: body.stream === true,
    ...anthropicConversation(body),
    inputTokens: estimateInputTokens(context.bodyBytes),
    recorded: context.recorded,
  };
  const reply = context.responder.next(request);
  if (reply.kind === "status") return sendStatus(context, reply, requestId);

  const ids = { messageId: context.nextId("msg_fake_"), toolIds: reply.toolCalls.map((call) => call.id ?? context.nextId("toolu_fake_")) };
  const { response } = context;
  if (request.stream) {
    response.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", "request-id": requestId });
    writeStream(response, renderMessageStream(reply, ids, body.model), reply.delayMs, reply.fault);
    return;
  }
  deliverOnce(response, reply.tokenCount, reply.delayMs, reply.fault, {
    ok: () => sendJson(response, 200, { "request-id": requestId }, renderMessage(reply, ids, body.model)),
    overloaded: () => sendJson(response, 529, { "request-id": requestId }, anthropicErrorBody(529, requestId)),
    malformed: () => sendJson(response, 200, { "request-id": requestId }, `{"id":"${ids.messageId}","type":"message","content":[`, true),
  });
}

/** `POST /v1/messages/count_tokens`: the fake's input-token estimate, without consuming a scripted reply. */
export function handleAnthropicCountTokens(context: RouteContext): void {
  const requestId = context.nextId("req_fake_");
  if (!anthropicAuthorized(context, requestId)) return;
  sendJson(context.response, 200, { "request-id": requestId }, { input_tokens: estimateInputTokens(context.bodyBytes) });
}

function sendStatus(context: RouteContext, script: StatusScript, requestId: string): void {
  const headers: Record<string, string> = { "request-id": requestId };
  if (script.retryAfterSeconds !== undefined) headers["retry-after"] = String(script.retryAfterSeconds);
  sendJson(context.response, script.status, headers, script.body ?? anthropicErrorBody(script.status, requestId, script.message));
}
