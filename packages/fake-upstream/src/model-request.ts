import type { RecordedRequest } from "./recorded-request";

/** A validated model request (Anthropic Messages or OpenAI chat completions), as seen by responders. */
export interface ModelRequest {
  /** Which wire protocol the client spoke. */
  protocol: "anthropic" | "openai";
  /** The `model` the client asked for; echoed back in the response. */
  model: string;
  /** Whether the client asked for server-sent events. */
  stream: boolean;
  /** Text of the system prompt (Anthropic `system`, OpenAI system/developer messages); empty when there is none. */
  systemText: string;
  /** Text of the last user message (string content or joined text blocks), magic tokens included. */
  lastUserText: string;
  /** Joined text of the tool results the request ends with; undefined when it does not end with tool results. */
  toolResultText: string | undefined;
  /** Estimated input tokens: request body bytes / 4, at least 1. */
  inputTokens: number;
  /** The recorded request, parsed body included. */
  recorded: RecordedRequest;
}
