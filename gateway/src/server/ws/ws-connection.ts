import { assertTenantId } from "@workforce/protocol/tenant-path";
import { AppError, describeZodError, WS_METHOD_PARAMS, WS_METHODS, WsRequestFrame, type ErrorDetail, type WsEventFrame, type WsMethod, type WsResponseFrame } from "@workforce/protocol";
import { z } from "zod";
import type { AgentStore } from "../../agents/agent-store";
import { parseJson } from "../../fs/jsonl-file";
import { parseTraceparent, type Tracer } from "@workforce/logging";
import { clientError } from "../error-handler";
import type { LogContext, Logger } from "../../logger";
import { decideApproval, parseDecision } from "../../runs/approval-decisions";
import { localSubmit, type SubmitRun } from "../../runs/run-forwarding";
import type { RunManager } from "../../runs/run-manager";
import type { RunEventSource } from "../../runs/run-relay";
import type { SessionStore } from "../../sessions/session-store";

/** Enough of a bad frame to answer it by id. */
const FrameId = z.object({ id: z.string() });

export interface WsConnectionDeps {
  agents: AgentStore;
  sessions: SessionStore;
  runs: RunManager;
  /** Starts a run here or at the gateway holding its session (run-forwarding); here only when absent. */
  submitRun?: SubmitRun | undefined;
  logger: Logger;
  /** Lines logged while serving a frame name its request id (the platform's X-Request-Id) and tenant. */
  logContext?: LogContext | undefined;
  /** A server span per frame (child of its traceparent), when tracing is on. */
  tracer?: Tracer | undefined;
}

/**
 * One live client, bound to one tenant at connect, or shared (tenantId undefined: each request
 * frame names its tenant, each event frame its run's; decision 049). Transport-free: `receive` takes raw text and
 * `send` gets frames, so it is testable without a socket.
 */
export class WsConnection {
  private seq = 0;
  /**
   * One controller per forwarded run, not one shared signal: a follower adds and removes an abort
   * listener each time it waits, and with thousands of runs on one connection (the platform
   * multiplexes a tenant's streams here) a shared signal made that a scan of every listener.
   */
  private readonly forwards = new Set<AbortController>();
  private closed = false;

  constructor(
    private readonly tenantId: string | undefined,
    private readonly deps: WsConnectionDeps,
    private readonly send: (frame: WsResponseFrame | WsEventFrame) => void,
  ) {}

  close(): void {
    this.closed = true;
    for (const forward of this.forwards) forward.abort();
    this.forwards.clear();
  }

  async receive(text: string): Promise<void> {
    const frame = WsRequestFrame.safeParse(parseJson(text));
    if (!frame.success) {
      const id = FrameId.safeParse(parseJson(text));
      this.reply(id.success ? id.data.id : "", undefined, { code: "validation_failed", message: `bad frame: ${describeZodError(frame.error)}` });
      return;
    }
    const { id, method, params, requestId, traceparent } = frame.data;
    let tenantId: string;
    try {
      tenantId = this.tenantOf(frame.data.tenant);
    } catch (error) {
      const known = error instanceof AppError ? error : new AppError("validation_failed", "bad tenant");
      this.reply(id, undefined, { code: known.code, message: known.message });
      return;
    }
    const context = this.deps.logContext;
    const span = this.deps.tracer?.startSpan(`WS ${method}`, {
      kind: "server",
      parent: parseTraceparent(traceparent),
      attributes: { "rpc.system": "workforce-ws", "rpc.method": method, "workforce.request_id": requestId, "workforce.tenant_id": tenantId },
    });
    const trace = span ? { traceId: span.context.traceId, spanId: span.context.spanId } : {};
    if (context) await context.run({ requestId, tenantId, ...trace }, () => this.serve(id, method, params, tenantId));
    else await this.serve(id, method, params, tenantId);
    span?.end();
  }

  /** The frame's tenant: the bound one (a frame may only repeat it), or the one a shared connection's frame names. */
  private tenantOf(named: string | undefined): string {
    if (this.tenantId !== undefined) {
      if (named !== undefined && named !== this.tenantId) throw new AppError("forbidden", "this connection is bound to another tenant");
      return this.tenantId;
    }
    if (named === undefined || named.trim() === "") throw new AppError("tenant_required", "a shared connection's request frames name their tenant (`tenant`)");
    return assertTenantId(named.trim());
  }

  private async serve(id: string, method: string, params: unknown, tenantId: string): Promise<void> {
    try {
      this.reply(id, await this.dispatch(method, params, tenantId));
    } catch (error) {
      // The same mapping as the HTTP error handler's, so a fault answers the same code both ways.
      const known = clientError(error, `websocket ${method}`, this.deps.logger);
      this.reply(id, undefined, { code: known.code, message: known.message });
    }
  }

  private async dispatch(method: string, params: unknown, tenantId: string): Promise<unknown> {
    if (!Object.hasOwn(WS_METHOD_PARAMS, method)) throw new AppError("not_found", `unknown method "${method}"; known: ${WS_METHODS.join(", ")}`);
    const schema = WS_METHOD_PARAMS[method as WsMethod];
    const parsed = schema.safeParse(params);
    if (!parsed.success) throw new AppError("validation_failed", describeZodError(parsed.error, "params"));
    switch (method as WsMethod) {
      case "ping":
        return { pong: true };
      case "agents.list":
        return { agents: await this.deps.agents.list(tenantId) };
      case "sessions.list": {
        const input = WS_METHOD_PARAMS["sessions.list"].parse(params);
        await this.deps.agents.get(tenantId, input.agent);
        return { sessions: await this.deps.sessions.list({ tenantId, agent: input.agent }) };
      }
      case "sessions.history": {
        const input = WS_METHOD_PARAMS["sessions.history"].parse(params);
        await this.deps.agents.get(tenantId, input.agent);
        return this.deps.sessions.history({ tenantId, agent: input.agent }, input.sessionKey);
      }
      case "sessions.abort": {
        const input = WS_METHOD_PARAMS["sessions.abort"].parse(params);
        await this.deps.agents.get(tenantId, input.agent);
        await this.deps.sessions.get({ tenantId, agent: input.agent }, input.sessionKey);
        return { aborted: this.deps.runs.abortWhere(tenantId, input.agent, input.sessionKey).map((run) => this.deps.runs.info(run)) };
      }
      case "chat.send": {
        const input = WS_METHOD_PARAMS["chat.send"].parse(params);
        const { actor, ...message } = input;
        const run = await (this.deps.submitRun ?? localSubmit(this.deps.runs))(tenantId, input.agent, message, { source: "ws", ...actor });
        this.forward(tenantId, run.runId, run.events, 0);
        return run.info();
      }
      case "approvals.decide": {
        const { agent, sessionKey, approvalId, actor, ...decision } = WS_METHOD_PARAMS["approvals.decide"].parse(params);
        const submitRun = this.deps.submitRun ?? localSubmit(this.deps.runs);
        const request = { agent, sessionKey, approvalId, input: parseDecision(decision), origin: { source: "ws" as const, ...actor } };
        const run = await decideApproval({ ...this.deps, submitRun }, tenantId, request);
        this.forward(tenantId, run.runId, run.events, 0);
        return run.info();
      }
      case "runs.subscribe": {
        const input = WS_METHOD_PARAMS["runs.subscribe"].parse(params);
        const run = await this.deps.runs.locate(tenantId, input.runId);
        this.forward(tenantId, input.runId, run.events, input.after ?? 0);
        return run.info();
      }
      case "runs.abort": {
        const input = WS_METHOD_PARAMS["runs.abort"].parse(params);
        return (await this.deps.runs.locate(tenantId, input.runId)).abort();
      }
    }
  }

  /** Streams a run's events to this client; the response frame goes out first. */
  private forward(tenantId: string, runId: string, events: RunEventSource, after: number): void {
    if (this.closed) return;
    const stop = new AbortController();
    this.forwards.add(stop);
    void (async () => {
      await Promise.resolve();
      for await (const event of events.follow(after, stop.signal)) {
        this.seq += 1;
        this.send({ type: "event", event: event.type, payload: event, seq: this.seq, ...(this.tenantId === undefined ? { tenant: tenantId } : {}) });
      }
    })()
      .finally(() => this.forwards.delete(stop))
      .catch((error: unknown) => this.deps.logger.error(`websocket: forwarding run ${runId} failed`, error));
  }

  private reply(id: string, payload: unknown, error?: ErrorDetail): void {
    this.send(error ? { type: "res", id, ok: false, error } : { type: "res", id, ok: true, payload: payload ?? null });
  }
}
