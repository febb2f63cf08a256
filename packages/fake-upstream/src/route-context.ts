import type { ServerResponse } from "node:http";
import type { RecordedRequest } from "./recorded-request";
import type { Responder } from "./responder";

/** Everything a route handler needs for one request; built by the server per request. */
export interface RouteContext {
  recorded: RecordedRequest;
  /** Size of the raw request body, for the input-token estimate. */
  bodyBytes: number;
  response: ServerResponse;
  responder: Responder;
  /** Accepted API keys; null accepts any non-empty key. */
  apiKey: readonly string[] | null;
  /** Model ids listed by `GET /v1/models`. */
  models: readonly string[];
  /** Returns `<prefix><n>` with a per-server counter, for message, call and request ids. */
  nextId: (prefix: string) => string;
}

/** Reads the bearer token from an `authorization` header value. */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^Bearer\s+(.+)$/i.exec(header);
  return match?.[1]?.trim();
}

/** Estimates input tokens from the request body size, the way the fake reports usage. */
export function estimateInputTokens(bodyBytes: number): number {
  return Math.max(1, Math.ceil(bodyBytes / 4));
}
