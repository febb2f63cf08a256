import type { CallOptions } from "./test-platform";

type Call = (method: string, path: string, options?: CallOptions) => Response | Promise<Response>;

/** Sends a message and reads its whole SSE answer; the session it went to comes from run-start. */
export async function sendMessage(
  call: Call,
  options: CallOptions & { agent: string; message?: string; sessionKey?: string; idempotencyKey?: string },
): Promise<{ status: number; runId: string | null; sessionKey: string | undefined; text: string }> {
  const { agent, message = "Who are you?", sessionKey, idempotencyKey, ...rest } = options;
  const response = await call("POST", `/api/agents/${agent}/messages`, {
    ...rest,
    body: { message, ...(sessionKey ? { sessionKey } : {}), ...(idempotencyKey ? { idempotencyKey } : {}) },
  });
  const text = await response.text();
  const data = /event: run-start\ndata: (.*)\n/.exec(text)?.[1];
  const started = data ? (JSON.parse(data) as { sessionKey?: string }) : undefined;
  return { status: response.status, runId: response.headers.get("x-run-id"), sessionKey: started?.sessionKey, text };
}
