import { RunEvent, SseParser } from "@workforce/protocol";

/** A tiny HTTP client for e2e tests: what any integrator would write with fetch. */
export class TestClient {
  accessToken: string | undefined;

  constructor(readonly baseUrl: string) {}

  async request(method: string, pathname: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
    return fetch(this.baseUrl + pathname, {
      method,
      headers: {
        ...(body === undefined ? {} : { "content-type": "application/json" }),
        ...(this.accessToken ? { authorization: `Bearer ${this.accessToken}` } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }

  async json<T = any>(method: string, pathname: string, body?: unknown): Promise<{ status: number; body: T }> {
    const response = await this.request(method, pathname, body);
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
  }

  async signUp(email: string, password: string): Promise<void> {
    const { status, body } = await this.json<{ access_token: string }>("POST", "/auth/v1/signup", { email, password });
    if (status !== 200) throw new Error(`sign-up failed: ${status} ${JSON.stringify(body)}`);
    this.accessToken = body.access_token;
  }
}

/** Reads an SSE response body to the end and returns the parsed run events. */
export async function readRunEvents(response: Response, onEvent?: (event: RunEvent) => boolean | void): Promise<RunEvent[]> {
  if (!response.body) throw new Error("response has no body");
  const parser = new SseParser();
  const decoder = new TextDecoder();
  const events: RunEvent[] = [];
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    for (const message of parser.push(decoder.decode(value as Uint8Array, { stream: true }))) {
      const event = RunEvent.parse(JSON.parse(message.data));
      events.push(event);
      if (onEvent?.(event) === true) {
        await reader.cancel();
        return events;
      }
    }
  }
  return events;
}

export function textOf(events: RunEvent[]): string {
  return events.map((event) => (event.type === "text-delta" ? event.delta : "")).join("");
}
