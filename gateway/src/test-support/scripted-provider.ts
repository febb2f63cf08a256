import type { ModelProvider, ModelRequest, ModelStreamPart } from "../llm/model-provider";

/** One model call: the parts to stream, then optionally an error to throw. */
export interface ScriptedCall {
  parts: ModelStreamPart[];
  fail?: unknown;
}

/** A provider that plays back a script, one call per model request, and records the requests. */
export function createScriptedProvider(calls: ScriptedCall[]): ModelProvider & { requests: ModelRequest[] } {
  const requests: ModelRequest[] = [];
  return {
    name: "scripted",
    requests,
    info: (model) => ({ provider: "anthropic", id: model, offline: false }),
    async *stream(request) {
      requests.push(request);
      const call = calls.shift();
      if (!call) throw new Error("the scripted provider ran out of calls");
      for (const part of call.parts) {
        await new Promise((resolve) => setImmediate(resolve));
        yield part;
      }
      if (call.fail !== undefined) throw call.fail;
    },
  };
}
