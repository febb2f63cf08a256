import { anthropicAuthorized } from "./anthropic/messages-route";
import { anthropicErrorBody } from "./anthropic/errors";
import { sendJson } from "./delivery";
import { openaiAuthorized } from "./openai/chat-completions-route";
import { openaiErrorBody } from "./openai/errors";
import type { RouteContext } from "./route-context";

/** `GET /v1/models` in the format of whichever protocol the client speaks. */
export function handleModels(context: RouteContext): void {
  const requestId = context.nextId("req_fake_");
  if (context.recorded.protocol === "anthropic") {
    if (!anthropicAuthorized(context, requestId)) return;
    const data = context.models.map((id) => ({ type: "model", id, display_name: id, created_at: "2025-01-01T00:00:00Z" }));
    sendJson(context.response, 200, { "request-id": requestId }, {
      data,
      has_more: false,
      first_id: data[0]?.id ?? null,
      last_id: data.at(-1)?.id ?? null,
    });
    return;
  }
  if (!openaiAuthorized(context, requestId)) return;
  const data = context.models.map((id) => ({ id, object: "model", created: 1_735_689_600, owned_by: "fake-upstream" }));
  sendJson(context.response, 200, { "x-request-id": requestId }, { object: "list", data });
}

/** Any other route: 404 in the client's protocol. */
export function handleNotFound(context: RouteContext): void {
  const requestId = context.nextId("req_fake_");
  const message = `${context.recorded.method} ${context.recorded.path} is not served by the fake upstream`;
  if (context.recorded.protocol === "anthropic") {
    sendJson(context.response, 404, { "request-id": requestId }, anthropicErrorBody(404, requestId, message));
  } else {
    sendJson(context.response, 404, { "x-request-id": requestId }, openaiErrorBody(404, message));
  }
}
