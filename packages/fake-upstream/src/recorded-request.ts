import type { IncomingHttpHeaders } from "node:http";

/** One HTTP request the fake received, kept so tests can assert what the client sent. */
export interface RecordedRequest {
  /** HTTP method, e.g. `POST`. */
  method: string;
  /** Path without the query string, e.g. `/v1/messages`. */
  path: string;
  /** Query string without the `?`, empty when absent. */
  query: string;
  /** Request headers, lower-cased names as Node parses them. */
  headers: IncomingHttpHeaders;
  /** Parsed JSON body; undefined when the body was empty or not valid JSON. */
  body: unknown;
  /** The route's protocol; for `/v1/models` and unknown routes, `anthropic` when an `anthropic-version` or `x-api-key` header is sent. */
  protocol: "anthropic" | "openai";
}
