import type { ModelProvider } from "../llm/model-provider";

/** A model call waiting for the test to let it answer. */
export interface HeldCall {
  /** The user's message that started the run. */
  message: string;
  /** Answers "Re: <message>" and finishes the call. */
  release(): void;
}

/**
 * A provider whose every call waits until the test releases it, so which runs are executing is
 * decided by the test, not by timing. `calls` lists the calls in the order runs reached the model;
 * `held` those not released yet. An aborted run's call ends at once.
 */
export function createHeldProvider(): ModelProvider & { calls: HeldCall[]; held(): HeldCall[]; waitForCalls(count: number): Promise<void> } {
  const calls: HeldCall[] = [];
  const released = new Set<HeldCall>();
  const waiters: (() => void)[] = [];
  return {
    name: "held",
    calls,
    held: () => calls.filter((call) => !released.has(call)),
    async waitForCalls(count) {
      while (calls.length < count) await new Promise<void>((resolve) => waiters.push(resolve));
    },
    info: (model) => ({ provider: "anthropic", id: model, offline: false }),
    async *stream(request) {
      const last = request.messages.at(-1)?.content[0];
      const message = last?.type === "text" ? last.text : "";
      let release: () => void = () => undefined;
      const answered = new Promise<void>((resolve, reject) => {
        release = resolve;
        const aborted = () => reject(new DOMException("aborted", "AbortError"));
        if (request.signal.aborted) aborted();
        else request.signal.addEventListener("abort", aborted, { once: true });
      });
      const call: HeldCall = {
        message,
        release: () => {
          released.add(call);
          release();
        },
      };
      calls.push(call);
      for (const wake of waiters.splice(0)) wake();
      await answered;
      yield { type: "text-delta", text: `Re: ${message}` };
      yield { type: "finish", stopReason: "end_turn", usage: { inputTokens: 3, outputTokens: 2 } };
    },
  };
}
