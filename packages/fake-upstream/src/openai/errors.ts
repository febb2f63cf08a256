/** Error `type`, default message and `code` per status, as the OpenAI API reports them. */
const knownErrors: Record<number, readonly [type: string, message: string, code: string | null]> = {
  400: ["invalid_request_error", "Invalid request", null],
  401: ["invalid_request_error", "Incorrect API key provided.", "invalid_api_key"],
  403: ["invalid_request_error", "You are not allowed to access this resource.", null],
  404: ["invalid_request_error", "Not found", null],
  429: ["requests", "Rate limit reached for requests. Please try again later.", "rate_limit_exceeded"],
  500: ["server_error", "The server had an error while processing your request. Sorry about that!", null],
  503: ["server_error", "The server is overloaded or not ready yet.", null],
  529: ["server_error", "Overloaded", null],
};

/** The real error body: `{"error":{"message","type","param","code"}}`. */
export function openaiErrorBody(status: number, message?: string): unknown {
  const known = knownErrors[status];
  return {
    error: {
      message: message ?? known?.[1] ?? "Error",
      type: known?.[0] ?? (status >= 500 ? "server_error" : "invalid_request_error"),
      param: null,
      code: known?.[2] ?? null,
    },
  };
}

/** The `data:` line sent when the model is overloaded mid-stream; the `openai` client throws an APIError on it. */
export const openaiOverloadedEvent = `data: ${JSON.stringify({ error: { message: "Overloaded", type: "server_error", param: null, code: null } })}\n\n`;
