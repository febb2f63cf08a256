import { AppError, SseParser, type Usage } from "@workforce/protocol";
import { parseJson } from "../../../fs/jsonl-file";
import type { ModelProvider, ModelStreamPart } from "../../model-provider";
import { ChatCompletionChunk, ModelList, toChatMessages, toChatTools } from "./openai-wire";

export interface OpenAiCompatibleOptions {
  /** e.g. https://api.openai.com/v1 or http://127.0.0.1:11434/v1 (Ollama). */
  baseURL: string;
  apiKey?: string | undefined;
  fetch?: typeof fetch;
}

function statusError(status: number, message: string, retryAfter: string | null): AppError {
  const headers = retryAfter ? { "retry-after": retryAfter } : undefined;
  if (status === 401 || status === 403) return new AppError("provider_auth_failed", `the OpenAI-compatible endpoint rejected the key (${status}); check OPENAI_API_KEY`);
  if (status === 429) return new AppError("provider_rate_limited", `the OpenAI-compatible endpoint is rate-limiting: ${message}`, { retryable: true, headers });
  if (status === 503 || status === 529) return new AppError("provider_overloaded", `the OpenAI-compatible endpoint is overloaded: ${message}`, { retryable: true, headers });
  if (status >= 500) return new AppError("provider_error", `the OpenAI-compatible endpoint failed (${status}): ${message}`, { retryable: true, headers });
  return new AppError("provider_error", `the OpenAI-compatible endpoint refused the request (${status}): ${message}`);
}

function errorMessage(body: string): string {
  const parsed = ChatCompletionChunk.shape.error.safeParse((parseJson(body) as { error?: unknown } | undefined)?.error);
  return (parsed.success ? parsed.data?.message : undefined) ?? (body.slice(0, 200) || "no details");
}

/** Any OpenAI Chat Completions endpoint, spoken with plain fetch and SSE (no vendor SDK needed). */
export function createOpenAiCompatibleProvider(options: OpenAiCompatibleOptions): ModelProvider {
  const fetchImpl = options.fetch ?? fetch;
  const base = options.baseURL.replace(/\/+$/, "");
  const endpoint = `${base}/chat/completions`;
  const authorization: Record<string, string> = options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {};
  return {
    name: "openai-compatible",
    info: (model) => ({ provider: "openai-compatible", id: model, offline: false }),
    async listModels(signal) {
      let response: Response;
      try {
        response = await fetchImpl(`${base}/models`, { signal, headers: { accept: "application/json", ...authorization } });
      } catch (error) {
        throw new AppError("provider_unreachable", "cannot reach the OpenAI-compatible endpoint; details are in the gateway log", { retryable: true, cause: new Error(`${options.baseURL}: ${describe(error)}`, { cause: error }) });
      }
      const body = await response.text().catch(() => "");
      if (!response.ok) throw statusError(response.status, errorMessage(body), response.headers.get("retry-after"));
      const list = ModelList.safeParse(parseJson(body));
      if (!list.success) throw new AppError("provider_error", "the OpenAI-compatible endpoint sent a malformed model list");
      return list.data.data.map((model) => ({ id: model.id, label: model.id }));
    },
    async *stream(request): AsyncGenerator<ModelStreamPart> {
      let response: Response;
      try {
        response = await fetchImpl(endpoint, {
          method: "POST",
          signal: request.signal,
          headers: { "content-type": "application/json", accept: "text/event-stream", ...authorization },
          body: JSON.stringify({
            model: request.model,
            messages: toChatMessages(request.system, request.messages),
            ...(request.tools.length > 0 ? { tools: toChatTools(request.tools) } : {}),
            max_tokens: request.maxOutputTokens,
            stream: true,
            stream_options: { include_usage: true },
          }),
        });
      } catch (error) {
        if (request.signal.aborted) throw error;
        // The endpoint and the network error are for the gateway log (the cause), not for clients.
        throw new AppError("provider_unreachable", "cannot reach the OpenAI-compatible endpoint; details are in the gateway log", { retryable: true, cause: new Error(`${options.baseURL}: ${describe(error)}`, { cause: error }) });
      }
      if (!response.ok || !response.body) {
        throw statusError(response.status, errorMessage(await response.text().catch(() => "")), response.headers.get("retry-after"));
      }
      const usage: Usage = { inputTokens: 0, outputTokens: 0 };
      let stopReason = "stop";
      const calls = new Map<number, { id: string; name: string; args: string }>();
      const parser = new SseParser();
      const decoder = new TextDecoder();
      const reader: ReadableStreamDefaultReader<Uint8Array> = response.body.getReader();
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          for (const message of parser.push(decoder.decode(value, { stream: true }))) {
            if (message.data.trim() === "[DONE]") continue;
            const chunk = ChatCompletionChunk.safeParse(parseJson(message.data));
            if (!chunk.success) throw new AppError("provider_error", "the OpenAI-compatible endpoint sent a malformed stream chunk");
            if (chunk.data.error) {
              throw new AppError("provider_overloaded", `the OpenAI-compatible endpoint failed mid-stream: ${chunk.data.error.message ?? "unknown"}`, { retryable: true });
            }
            if (chunk.data.usage) usage.inputTokens = chunk.data.usage.prompt_tokens;
            if (chunk.data.usage) usage.outputTokens = chunk.data.usage.completion_tokens;
            for (const choice of chunk.data.choices) {
              if (choice.delta?.content) yield { type: "text-delta", text: choice.delta.content };
              for (const call of choice.delta?.tool_calls ?? []) {
                const current = calls.get(call.index) ?? { id: "", name: "", args: "" };
                if (call.id) current.id = call.id;
                if (call.function?.name) current.name += call.function.name;
                if (call.function?.arguments) current.args += call.function.arguments;
                calls.set(call.index, current);
              }
              if (choice.finish_reason) stopReason = choice.finish_reason;
            }
          }
        }
      } catch (error) {
        if (request.signal.aborted || error instanceof AppError) throw error;
        throw new AppError("provider_unreachable", "the connection to the OpenAI-compatible endpoint broke; details are in the gateway log", { retryable: true, cause: new Error(`${options.baseURL}: ${describe(error)}`, { cause: error }) });
      } finally {
        reader.releaseLock();
      }
      for (const [index, call] of [...calls.entries()].sort(([a], [b]) => a - b)) {
        const input = call.args.trim() === "" ? {} : parseJson(call.args);
        if (input === undefined) throw new AppError("provider_error", `the model sent malformed arguments for tool "${call.name}"`);
        yield { type: "tool-call", toolCallId: call.id || `call_${index}`, name: call.name, input };
      }
      yield { type: "finish", stopReason: stopReason === "tool_calls" ? "tool_use" : stopReason === "stop" ? "end_turn" : stopReason, usage };
    },
  };
}

/** A network error's message with the reason Node's fetch keeps on `cause` ("fetch failed" alone says little). */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return error.cause instanceof Error ? `${error.message} (${error.cause.message})` : error.message;
}
