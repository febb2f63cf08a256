import { AppError, describeZodError, type ErrorDetail } from "@workforce/protocol";
import type { AgentStore } from "../../agents/agent-store";
import { parseJson } from "../../fs/jsonl-file";
import type { Logger } from "../../logger";
import type { RunManager, RunRecord } from "../../runs/run-manager";
import type { SessionStore } from "../../sessions/session-store";
import { RequestFrame, WS_METHODS, type EventFrame, type ResponseFrame, type WsMethod } from "./ws-frames";

export interface WsConnectionDeps {
  agents: AgentStore;
  sessions: SessionStore;
  runs: RunManager;
  logger: Logger;
}

/**
 * One live client, bound to one tenant at connect. Transport-free: `receive` takes raw text and
 * `send` gets frames, so it is testable without a socket.
 */
export class WsConnection {
  private seq = 0;
  private readonly stop = new AbortController();

  constructor(
    private readonly tenantId: string,
    private readonly deps: WsConnectionDeps,
    private readonly send: (frame: ResponseFrame | EventFrame) => void,
  ) {}

  close(): void {
    this.stop.abort();
  }

  async receive(text: string): Promise<void> {
    const frame = RequestFrame.safeParse(parseJson(text));
    if (!frame.success) {
      const id = (parseJson(text) as { id?: unknown } | undefined)?.id;
      this.reply(typeof id === "string" ? id : "", undefined, { code: "validation_failed", message: `bad frame: ${describeZodError(frame.error)}` });
      return;
    }
    const { id, method, params } = frame.data;
    try {
      this.reply(id, await this.dispatch(method, params));
    } catch (error) {
      if (error instanceof AppError) this.reply(id, undefined, { code: error.code, message: error.message });
      else {
        this.deps.logger.error(`websocket ${method} failed`, error);
        this.reply(id, undefined, { code: "internal_error", message: "the gateway hit an unexpected error; details are in the gateway log" });
      }
    }
  }

  private async dispatch(method: string, params: unknown): Promise<unknown> {
    if (!(method in WS_METHODS)) throw new AppError("not_found", `unknown method "${method}"; known: ${Object.keys(WS_METHODS).join(", ")}`);
    const schema = WS_METHODS[method as WsMethod];
    const parsed = schema.safeParse(params);
    if (!parsed.success) throw new AppError("validation_failed", describeZodError(parsed.error, "params"));
    const { tenantId } = this;
    switch (method as WsMethod) {
      case "ping":
        return { pong: true };
      case "agents.list":
        return { agents: await this.deps.agents.list(tenantId) };
      case "sessions.list": {
        const input = WS_METHODS["sessions.list"].parse(params);
        await this.deps.agents.get(tenantId, input.agent);
        return { sessions: await this.deps.sessions.list({ tenantId, agent: input.agent }) };
      }
      case "sessions.history": {
        const input = WS_METHODS["sessions.history"].parse(params);
        await this.deps.agents.get(tenantId, input.agent);
        return this.deps.sessions.history({ tenantId, agent: input.agent }, input.sessionKey);
      }
      case "chat.send": {
        const input = WS_METHODS["chat.send"].parse(params);
        const run = await this.deps.runs.submit(tenantId, input.agent, input);
        this.forward(run, 0);
        return this.deps.runs.info(run);
      }
      case "runs.subscribe": {
        const input = WS_METHODS["runs.subscribe"].parse(params);
        const run = this.deps.runs.get(tenantId, input.runId);
        this.forward(run, input.after ?? 0);
        return this.deps.runs.info(run);
      }
      case "runs.abort": {
        const input = WS_METHODS["runs.abort"].parse(params);
        return this.deps.runs.info(this.deps.runs.abort(tenantId, input.runId));
      }
    }
  }

  /** Streams a run's events to this client; the response frame goes out first. */
  private forward(run: RunRecord, after: number): void {
    void (async () => {
      await Promise.resolve();
      for await (const event of run.log.follow(after, this.stop.signal)) {
        this.seq += 1;
        this.send({ type: "event", event: event.type, payload: event, seq: this.seq });
      }
    })().catch((error: unknown) => this.deps.logger.error(`websocket: forwarding run ${run.runId} failed`, error));
  }

  private reply(id: string, payload: unknown, error?: ErrorDetail): void {
    this.send(error ? { type: "res", id, ok: false, error } : { type: "res", id, ok: true, payload: payload ?? null });
  }
}
