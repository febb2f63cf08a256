import {
  ApiErrorBody,
  AppError,
  HOOK_TOKEN_HEADER,
  RunEndEvent,
  RunInfo,
  RunStartEvent,
  TENANT_HEADER,
  WS_PATH,
  WsResponseFrame,
  type RunActor,
  type RunEvent,
  type GatewayRunInput,
} from "@workforce/protocol";
import WebSocket from "ws";
import { isErrorCode } from "./http-errors";

/** The gateway answers pings at once; this long without any frame or pong means it is stuck. */
export const UPSTREAM_IDLE_MS = 45_000;
/** How often each connection is pinged (one timer for all of them). */
export const PING_INTERVAL_MS = 15_000;
/** A tenant's connection with no run streaming on it is closed after this long. */
export const IDLE_CONNECTION_MS = 30_000;

export interface GatewayRunStreamsOptions {
  /** CLAWDBOT_GATEWAY_URL without a trailing slash (http: or https:). */
  baseUrl: string;
  hookToken: string | undefined;
  /** Time limit for the gateway to accept a stream (connect + chat.send / runs.subscribe answered). Default 30 s. */
  streamStartTimeoutMs?: number;
  upstreamIdleMs?: number;
  pingIntervalMs?: number;
  idleConnectionMs?: number;
  /** Milliseconds. */
  now?: () => number;
  /** The X-Request-Id of the request being served, sent with each frame so the gateway's log lines name it. */
  requestId?: () => string | undefined;
  /** The traceparent of the span being served, sent beside requestId in each request frame. */
  traceparent?: () => string | undefined;
  /** Told the run a request starts or follows, so the request's log lines can name it. */
  onRun?: (runId: string) => void;
}

/** Receives a run's events, in order and each once. */
export interface RunSink {
  event(event: RunEvent): void;
  /** The gateway connection was lost before run-end: the client resumes with Last-Event-ID. */
  lost(): void;
}

/**
 * One run's events arriving over a tenant's shared connection. Events that come before a sink
 * is attached are kept; after `detach` they are only watched for run-start/run-end (so usage is
 * still recorded when the browser left), until run-end or the connection ends.
 */
export class RunSubscription {
  /** From run-start, when seen. */
  agent: string | undefined;
  /** The run's end, when seen. */
  end: RunEndEvent | undefined;
  /** True once nothing more will arrive (run-end seen, or the connection lost). */
  closed = false;
  private lastSeq: number;
  private sink: RunSink | undefined;
  private pending: RunEvent[] | undefined = [];
  private lostBeforeAttach = false;
  private runEndListener: ((event: RunEndEvent, agent: string | undefined) => void) | undefined;
  private runEndReported = false;

  constructor(
    readonly runId: string,
    after: number,
    private readonly release: (subscription: RunSubscription) => void,
  ) {
    this.lastSeq = after;
  }

  /** Called once with the run's end, also after `detach` (and at once if it already came). */
  onRunEnd(listener: (event: RunEndEvent, agent: string | undefined) => void): void {
    this.runEndListener = listener;
    this.reportRunEnd();
  }

  private reportRunEnd(): void {
    if (!this.end || !this.runEndListener || this.runEndReported) return;
    this.runEndReported = true;
    this.runEndListener(this.end, this.agent);
  }

  /** Starts delivering (buffered events first). */
  attach(sink: RunSink): void {
    this.sink = sink;
    const pending = this.pending ?? [];
    this.pending = undefined;
    for (const event of pending) sink.event(event);
    if (this.lostBeforeAttach) sink.lost();
  }

  /** Stops delivering; run-end is still watched for. */
  detach(): void {
    this.sink = undefined;
    this.pending = undefined;
  }

  /** No more events wanted at all (the subscription stays registered until the gateway ends it). */
  get attached(): boolean {
    return this.sink !== undefined;
  }

  deliver(event: RunEvent): void {
    // Exactly once and in order: a replayed or repeated seq is dropped.
    if (this.closed || event.seq <= this.lastSeq) return;
    this.lastSeq = event.seq;
    if (event.type === "run-start" || event.type === "run-end") {
      const parsed = (event.type === "run-start" ? RunStartEvent : RunEndEvent).safeParse(event);
      if (parsed.success && parsed.data.type === "run-start") this.agent = parsed.data.agent;
      if (parsed.success && parsed.data.type === "run-end") this.end = parsed.data;
    }
    if (this.pending) this.pending.push(event);
    else this.sink?.event(event);
    if (this.end) {
      this.closed = true;
      this.release(this);
      this.reportRunEnd();
    }
  }

  connectionLost(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.pending) this.lostBeforeAttach = true;
    else this.sink?.lost();
  }
}

interface PendingRequest {
  resolve: (payload: unknown) => void;
  reject: (error: AppError) => void;
}

/** One WebSocket to the gateway, bound to one tenant, carrying many runs. */
class TenantConnection {
  readonly runs = new Map<string, RunSubscription>();
  /** Events of a run whose chat.send answer has not been handled yet (the gateway may send them first). */
  private readonly early = new Map<string, { since: number; events: RunEvent[] }>();
  private readonly requests = new Map<string, PendingRequest>();
  private nextId = 0;
  private readonly socket: WebSocket;
  readonly opened: Promise<void>;
  lastHeardAt: number;
  idleSince: number;
  closed = false;

  constructor(
    readonly tenantId: string,
    private readonly options: Required<Pick<GatewayRunStreamsOptions, "baseUrl" | "now">> & Pick<GatewayRunStreamsOptions, "hookToken" | "requestId" | "traceparent">,
    private readonly onClose: (connection: TenantConnection) => void,
  ) {
    this.lastHeardAt = options.now();
    this.idleSince = this.lastHeardAt;
    const url = `${options.baseUrl.replace(/^http/, "ws")}${WS_PATH}`;
    this.socket = new WebSocket(url, {
      headers: {
        [TENANT_HEADER]: tenantId,
        ...(options.hookToken ? { authorization: `Bearer ${options.hookToken}`, [HOOK_TOKEN_HEADER]: options.hookToken } : {}),
      },
      perMessageDeflate: false,
    });
    this.opened = new Promise<void>((resolve, reject) => {
      this.socket.once("open", () => resolve());
      this.socket.once("unexpected-response", (_request, response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () => {
          const error = refusal(response.statusCode ?? 502, Buffer.concat(chunks).toString("utf8"));
          reject(error);
          this.shutDown(error);
        });
        response.on("error", () => this.shutDown(unreachable()));
      });
      this.socket.once("error", (error) => reject(unreachable(error)));
    });
    // A failed connect is reported to the requests waiting on it; nobody else awaits `opened`.
    this.opened.catch(() => undefined);
    this.socket.on("message", (data: Buffer) => this.receive(data.toString("utf8")));
    this.socket.on("pong", () => (this.lastHeardAt = options.now()));
    this.socket.on("error", () => this.shutDown(unreachable()));
    this.socket.on("close", () => this.shutDown(unreachable()));
  }

  get busy(): boolean {
    return this.runs.size > 0 || this.requests.size > 0 || this.early.size > 0;
  }

  /** Sends a request frame once connected; settles with the response payload or an AppError. */
  async request(method: string, params: unknown, timeoutMs: number): Promise<unknown> {
    const id = String(++this.nextId);
    const requestId = this.options.requestId?.();
    const traceparent = this.options.traceparent?.();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const answer = new Promise<unknown>((resolve, reject) => {
      this.requests.set(id, { resolve, reject });
      timer = setTimeout(() => {
        this.requests.delete(id);
        reject(new AppError("gateway_unavailable", `The agent gateway did not answer within ${timeoutMs} ms`, { retryable: true }));
      }, timeoutMs);
    });
    try {
      await Promise.race([this.opened, answer]);
      if (this.closed) throw unreachable();
      if (this.requests.has(id)) this.socket.send(JSON.stringify({ type: "req", id, method, params, ...(requestId ? { requestId } : {}), ...(traceparent ? { traceparent } : {}) }));
      return await answer;
    } catch (error) {
      this.requests.delete(id);
      throw error instanceof AppError ? error : unreachable(error);
    } finally {
      clearTimeout(timer);
      if (!this.busy) this.idleSince = this.options.now();
    }
  }

  /** Registers a run's subscription before its events can arrive. */
  register(subscription: RunSubscription): void {
    this.runs.set(subscription.runId, subscription);
    const early = this.early.get(subscription.runId);
    if (!early) return;
    this.early.delete(subscription.runId);
    for (const event of early.events) subscription.deliver(event);
  }

  release(subscription: RunSubscription): void {
    if (this.runs.get(subscription.runId) === subscription) this.runs.delete(subscription.runId);
    if (!this.busy) this.idleSince = this.options.now();
  }

  /** Pings; true when the gateway has been silent too long (the connection is then dropped). */
  check(now: number, idleMs: number, idleConnectionMs: number): void {
    if (this.closed) return;
    for (const [runId, entry] of this.early) if (now - entry.since > idleConnectionMs) this.early.delete(runId);
    if (now - this.lastHeardAt > idleMs) {
      this.shutDown(new AppError("gateway_unavailable", "The agent gateway stopped answering", { retryable: true }));
      return;
    }
    if (!this.busy && now - this.idleSince > idleConnectionMs) {
      this.shutDown(unreachable());
      return;
    }
    if (this.socket.readyState === WebSocket.OPEN) this.socket.ping();
  }

  close(): void {
    this.shutDown(unreachable());
  }

  private receive(text: string): void {
    this.lastHeardAt = this.options.now();
    let frame: unknown;
    try {
      frame = JSON.parse(text);
    } catch {
      return;
    }
    if (!isObject(frame)) return;
    if (frame.type === "event") {
      // The gateway is trusted (it holds the hook token): only the fields used for routing are
      // checked here; run-start and run-end, which the platform reads, are validated in full.
      const event = frame.payload;
      if (!isObject(event) || typeof event.runId !== "string" || typeof event.seq !== "number" || typeof event.type !== "string") return;
      const runEvent = event as RunEvent;
      const subscription = this.runs.get(runEvent.runId);
      if (subscription) subscription.deliver(runEvent);
      else this.keepEarly(runEvent);
      return;
    }
    const response = WsResponseFrame.safeParse(frame);
    if (!response.success) return;
    const pending = this.requests.get(response.data.id);
    if (!pending) return;
    this.requests.delete(response.data.id);
    if (response.data.ok) pending.resolve(response.data.payload);
    else pending.reject(remoteError(response.data.error));
  }

  private keepEarly(event: RunEvent): void {
    // Only a chat.send whose answer is on its way can own an unknown run; what nobody claims
    // (its chat.send timed out here) is dropped by `check`.
    const entry = this.early.get(event.runId);
    if (entry) entry.events.push(event);
    else this.early.set(event.runId, { since: this.options.now(), events: [event] });
  }

  private shutDown(error: AppError): void {
    if (this.closed) return;
    this.closed = true;
    this.onClose(this);
    if (this.socket.readyState !== WebSocket.CLOSED) this.socket.terminate();
    for (const pending of this.requests.values()) pending.reject(error);
    this.requests.clear();
    this.early.clear();
    const runs = [...this.runs.values()];
    this.runs.clear();
    for (const run of runs) run.connectionLost();
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

/** Clients are told the gateway is down, never where it lives (that is in /api/health for the operator). */
function unreachable(cause?: unknown): AppError {
  return new AppError("gateway_unavailable", "The agent gateway is not reachable right now", { retryable: true, cause });
}

function remoteError(detail: { code: string; message: string; retryable?: boolean }): AppError {
  if (isErrorCode(detail.code)) return new AppError(detail.code, detail.message, detail.retryable === undefined ? {} : { retryable: detail.retryable });
  return new AppError("gateway_error", detail.message);
}

/** The gateway refused the upgrade: a rejected hook token is the operator's problem (502). */
function refusal(status: number, body: string): AppError {
  if (status === 401 || status === 403) {
    return new AppError("gateway_error", "The agent gateway rejected the platform's credentials; CLAWDBOT_HOOK_TOKEN must be the same for both services");
  }
  let parsed: ApiErrorBody | undefined;
  try {
    const result = ApiErrorBody.safeParse(JSON.parse(body));
    if (result.success) parsed = result.data;
  } catch {
    // not JSON
  }
  if (parsed && isErrorCode(parsed.error.code)) return new AppError(parsed.error.code, parsed.error.message);
  return new AppError("gateway_error", `The agent gateway refused the stream connection (HTTP ${status})`);
}

/**
 * Runs streamed from the gateway over a few shared WebSockets (`/v1/ws`), one per tenant (a
 * second one only while the first already carries a subscription to the same run): a browser
 * stream costs the platform its own socket and no second one to the gateway. One timer pings
 * every connection; a connection silent for `upstreamIdleMs` is dropped and its streams end so
 * the browsers resume with Last-Event-ID.
 */
export function createGatewayRunStreams(options: GatewayRunStreamsOptions) {
  const now = options.now ?? (() => Date.now());
  const startTimeoutMs = options.streamStartTimeoutMs ?? 30_000;
  const idleMs = options.upstreamIdleMs ?? UPSTREAM_IDLE_MS;
  const idleConnectionMs = options.idleConnectionMs ?? IDLE_CONNECTION_MS;
  const pool = new Map<string, TenantConnection[]>();
  let timer: ReturnType<typeof setInterval> | undefined;

  const remove = (connection: TenantConnection) => {
    const list = pool.get(connection.tenantId)?.filter((other) => other !== connection) ?? [];
    if (list.length > 0) pool.set(connection.tenantId, list);
    else pool.delete(connection.tenantId);
    if (pool.size === 0 && timer) {
      clearInterval(timer);
      timer = undefined;
    }
  };

  /** A live connection of the tenant that does not carry `runId` yet. */
  function connectionFor(tenantId: string, runId: string | undefined): TenantConnection {
    const list = pool.get(tenantId) ?? [];
    const free = list.find((connection) => !connection.closed && (runId === undefined || !connection.runs.has(runId)));
    if (free) return free;
    const connection = new TenantConnection(tenantId, { baseUrl: options.baseUrl, hookToken: options.hookToken, requestId: options.requestId, traceparent: options.traceparent, now }, remove);
    pool.set(tenantId, [...list, connection]);
    if (!timer) {
      timer = setInterval(() => {
        const at = now();
        for (const connections of [...pool.values()]) for (const each of connections) each.check(at, idleMs, idleConnectionMs);
      }, Math.min(options.pingIntervalMs ?? PING_INTERVAL_MS, idleMs));
      timer.unref();
    }
    return connection;
  }

  function parseInfo(payload: unknown): RunInfo {
    const info = RunInfo.safeParse(payload);
    if (!info.success) throw new AppError("gateway_error", "The agent gateway sent a run of an unexpected shape");
    return info.data;
  }

  return {
    /**
     * Starts a run; its events (from seq 1) arrive on the returned subscription. `actor` is on whose
     * behalf: the gateway journals the run's usage for them, as the platform records it.
     */
    async startRun(tenantId: string, agent: string, input: GatewayRunInput, actor: RunActor = {}): Promise<{ info: RunInfo; subscription: RunSubscription }> {
      const connection = connectionFor(tenantId, undefined);
      const info = parseInfo(await connection.request("chat.send", { agent, ...input, actor }, startTimeoutMs));
      options.onRun?.(info.runId);
      const subscription = new RunSubscription(info.runId, 0, (done) => connection.release(done));
      if (connection.closed) subscription.connectionLost();
      else connection.register(subscription);
      return { info, subscription };
    },

    /** Replays a run's events with seq > after, then follows it live until run-end. */
    async subscribe(tenantId: string, runId: string, after: number): Promise<{ info: RunInfo; subscription: RunSubscription }> {
      const connection = connectionFor(tenantId, runId);
      options.onRun?.(runId);
      const subscription = new RunSubscription(runId, after, (done) => connection.release(done));
      connection.register(subscription);
      try {
        const info = parseInfo(await connection.request("runs.subscribe", { runId, after }, startTimeoutMs));
        // A finished run with nothing after `after` sends nothing more: the stream ends at once. (A run
        // its gateway lost has lastSeq 0, "not known": its run_interrupted end comes after any seq.)
        if (info.status !== "queued" && info.status !== "running" && info.lastSeq > 0 && info.lastSeq <= after && !subscription.closed) {
          subscription.closed = true;
          connection.release(subscription);
        }
        return { info, subscription };
      } catch (error) {
        connection.release(subscription);
        throw error;
      }
    },

    /** Open connections and the runs they carry, for tests and diagnostics. */
    stats(): { connections: number; runs: number } {
      let connections = 0;
      let runs = 0;
      for (const list of pool.values()) {
        connections += list.length;
        for (const connection of list) runs += connection.runs.size;
      }
      return { connections, runs };
    },

    /** Drops every connection (their streams end as if the gateway went away). */
    close(): void {
      for (const list of [...pool.values()]) for (const connection of list) connection.close();
    },
  };
}

export type GatewayRunStreams = ReturnType<typeof createGatewayRunStreams>;
