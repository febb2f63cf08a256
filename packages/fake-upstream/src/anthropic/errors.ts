/** Error `type` and default message per status, as the Anthropic API reports them. */
const knownErrors: Record<number, readonly [type: string, message: string]> = {
  400: ["invalid_request_error", "Invalid request"],
  401: ["authentication_error", "invalid x-api-key"],
  403: ["permission_error", "Your API key does not have permission to use the specified resource."],
  404: ["not_found_error", "Not found"],
  413: ["request_too_large", "Request exceeds the maximum allowed number of bytes."],
  429: ["rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit"],
  500: ["api_error", "Internal server error"],
  529: ["overloaded_error", "Overloaded"],
};

/** The Anthropic error `type` for an HTTP status. */
export function anthropicErrorType(status: number): string {
  return knownErrors[status]?.[0] ?? (status >= 500 ? "api_error" : "invalid_request_error");
}

/** The real error body: `{"type":"error","error":{"type",...,"message"},"request_id"}`. */
export function anthropicErrorBody(status: number, requestId: string, message?: string): unknown {
  return {
    type: "error",
    error: { type: anthropicErrorType(status), message: message ?? knownErrors[status]?.[1] ?? "Error" },
    request_id: requestId,
  };
}

/** The SSE `error` event sent when the model is overloaded mid-stream. */
export const anthropicOverloadedEvent = `event: error\ndata: ${JSON.stringify({ type: "error", error: { type: "overloaded_error", message: "Overloaded" } })}\n\n`;
