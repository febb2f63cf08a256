import {
  ApiErrorBody,
  AppError,
  HOOK_TOKEN_HEADER,
  RunInfo,
  TENANT_HEADER,
  WS_PATH,
  WS_SHARED_TENANTS_PROTOCOL,
  WsResponseFrame,
  type RunActor,
  type RunEvent,
  type GatewayRunInput,
} from "@workforce/protocol";
import WebSocket from "ws";
import { isErrorCode } from "./http-errors";
import { RunSubscription } from "./run-subscription";

/** The gateway answers pings at once; this long without any frame or pong means it is stuck. */
export const UPSTREAM_IDLE_MS = 45_000;
/** How often each connection is pinged (one timer for all of them). */
export const PING_INTERVAL_MS = 15_000;
/** A connection with no run streaming on it is closed after this long. */
export const IDLE_CONNECTION_MS = 30_000;
/** Shared connections per gateway (decision 049): every tenant's streams over at most this many sockets. */
export const SHARED_CONNECTIONS = 4;

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
  /** The most shared connections to the gateway (SHARED_CONNECTIONS by default). */
  sharedConnections?: number;
  /** False: a connection per tenant, as before decision 049 (for comparisons; a gateway that refuses shared ones gets this anyway). */
  shared?: boolean;
}

export { RunSubscription, type RunSink } from "./run-subscription";

interface PendingRequest {
  resolve: (payload: unknown) => void;
  reject: (error: AppError) => void;
}

/** Where a run's subscription is filed on a connection: the same run id of two tenants is two runs. */
const runKey = (tenantId: string, runId: string) => `${tenantId} ${runId}`;

/**
 * One WebSocket to the gateway carrying many runs: shared (`tenantId` undefined; each request
 * frame names its tenant and each event frame its run's, decision 049), or bound to one tenant
 * (a gateway from before shared connections).
 */
class GatewayConnection {
  /** By runKey. */
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
    readonly tenantId: string | undefined,
    private readonly options: Required<Pick<GatewayRunStreamsOptions, "baseUrl" | "now">> & Pick<GatewayRunStreamsOptions, "hookToken" | "requestId" | "traceparent">,
    private readonly onClose: (connection: GatewayConnection) => void,
  ) {
    this.lastHeardAt = options.now();
    this.idleSince = this.lastHeardAt;
    const url = `${options.baseUrl.replace(/^http/, "ws")}${WS_PATH}`;
    const token = options.hookToken ? { authorization: `Bearer ${options.hookToken}`, [HOOK_TOKEN_HEADER]: options.hookToken } : {};
    this.socket = new WebSocket(url, tenantId === undefined ? [WS_SHARED_TENANTS_PROTOCOL] : [], {
      headers: { ...(tenantId === undefined ? {} : { [TENANT_HEADER]: tenantId }), ...token },
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

  /** Runs and requests it carries, to spread new ones over the shared connections. */
  get load(): number {
    return this.runs.size + this.requests.size;
  }

  /** Sends a request frame for `tenantId` once connected; settles with the response payload or an AppError. */
  async request(tenantId: string, method: string, params: unknown, timeoutMs: number): Promise<unknown> {
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
      const tenant = this.tenantId === undefined ? { tenant: tenantId } : {};
      if (this.requests.has(id)) this.socket.send(JSON.stringify({ type: "req", id, method, params, ...tenant, ...(requestId ? { requestId } : {}), ...(traceparent ? { traceparent } : {}) }));
      return await answer;
    } catch (error) {
      this.requests.delete(id);
      throw error instanceof AppError ? error : unreachable(error);
    } finally {
      clearTimeout(timer);
      if (!this.busy) this.idleSince = this.options.now();
    }
  }

  /** Registers a run's subscription (of `tenantId`) before its events can arrive. */
  register(tenantId: string, subscription: RunSubscription): void {
    const key = runKey(tenantId, subscription.runId);
    this.runs.set(key, subscription);
    const early = this.early.get(key);
    if (!early) return;
    this.early.delete(key);
    for (const event of early.events) subscription.deliver(event);
  }

  release(tenantId: string, subscription: RunSubscription): void {
    const key = runKey(tenantId, subscription.runId);
    if (this.runs.get(key) === subscription) this.runs.delete(key);
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
      // On a shared connection an event without its tenant belongs to nobody.
      const tenantId = this.tenantId ?? (typeof frame.tenant === "string" ? frame.tenant : undefined);
      if (tenantId === undefined) return;
      const runEvent = event as RunEvent;
      const key = runKey(tenantId, runEvent.runId);
      const subscription = this.runs.get(key);
      if (subscription) subscription.deliver(runEvent);
      else this.keepEarly(key, runEvent);
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

  private keepEarly(key: string, event: RunEvent): void {
    // Only a chat.send whose answer is on its way can own an unknown run; what nobody claims
    // (its chat.send timed out here) is dropped by `check`.
    const entry = this.early.get(key);
    if (entry) entry.events.push(event);
    else this.early.set(key, { since: this.options.now(), events: [event] });
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

/** The pool's key of the shared connections (a tenant's own connections are filed under its id). */
const SHARED = "*";

/**
 * Runs streamed from the gateway over a few shared WebSockets (`/v1/ws`, decision 049): every
 * tenant's streams spread over at most `sharedConnections` sockets (one more only while each
 * already carries a subscription to the same run), so 10,000 tenants streaming cost the gateway
 * a handful of connections, not 10,000. A gateway from before shared connections (it refuses the
 * upgrade with tenant_required) gets one connection per tenant instead. One timer pings every
 * connection; a connection silent for `upstreamIdleMs` is dropped and its streams end so the
 * browsers resume with Last-Event-ID.
 */
export function createGatewayRunStreams(options: GatewayRunStreamsOptions) {
  const now = options.now ?? (() => Date.now());
  const startTimeoutMs = options.streamStartTimeoutMs ?? 30_000;
  const idleMs = options.upstreamIdleMs ?? UPSTREAM_IDLE_MS;
  const idleConnectionMs = options.idleConnectionMs ?? IDLE_CONNECTION_MS;
  const maxShared = Math.max(1, options.sharedConnections ?? SHARED_CONNECTIONS);
  const pool = new Map<string, GatewayConnection[]>();
  /** Set once the gateway refused a shared connection: it predates them. */
  let perTenant = options.shared === false;
  let timer: ReturnType<typeof setInterval> | undefined;

  const remove = (connection: GatewayConnection) => {
    const poolKey = connection.tenantId ?? SHARED;
    const list = pool.get(poolKey)?.filter((other) => other !== connection) ?? [];
    if (list.length > 0) pool.set(poolKey, list);
    else pool.delete(poolKey);
    if (pool.size === 0 && timer) {
      clearInterval(timer);
      timer = undefined;
    }
  };

  /**
   * The least loaded live connection that does not carry the tenant's `runId` yet; a new one
   * while there is room (a shared one while fewer than `maxShared` are open and none is idle).
   */
  function connectionFor(tenantId: string, runId: string | undefined): GatewayConnection {
    const poolKey = perTenant ? tenantId : SHARED;
    const list = pool.get(poolKey) ?? [];
    const key = runId === undefined ? undefined : runKey(tenantId, runId);
    let best: GatewayConnection | undefined;
    for (const each of list) if (!each.closed && (key === undefined || !each.runs.has(key)) && (!best || each.load < best.load)) best = each;
    if (best && (best.load === 0 || list.length >= (perTenant ? 1 : maxShared))) return best;
    const connection = new GatewayConnection(perTenant ? tenantId : undefined, { baseUrl: options.baseUrl, hookToken: options.hookToken, requestId: options.requestId, traceparent: options.traceparent, now }, remove);
    pool.set(poolKey, [...list, connection]);
    if (!timer) {
      timer = setInterval(() => {
        const at = now();
        for (const connections of [...pool.values()]) for (const each of connections) each.check(at, idleMs, idleConnectionMs);
      }, Math.min(options.pingIntervalMs ?? PING_INTERVAL_MS, idleMs));
      timer.unref();
    }
    return connection;
  }

  /** Runs `use` on a connection for the tenant; again on the tenant's own one if the gateway refuses shared connections. */
  async function withConnection<T>(tenantId: string, runId: string | undefined, use: (connection: GatewayConnection) => Promise<T>): Promise<T> {
    const connection = connectionFor(tenantId, runId);
    try {
      return await use(connection);
    } catch (error) {
      if (connection.tenantId !== undefined || !(error instanceof AppError && error.code === "tenant_required")) throw error;
      perTenant = true;
      return use(connectionFor(tenantId, runId));
    }
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
      return withConnection(tenantId, undefined, async (connection) => {
        const info = parseInfo(await connection.request(tenantId, "chat.send", { agent, ...input, actor }, startTimeoutMs));
        options.onRun?.(info.runId);
        const subscription = new RunSubscription(info.runId, 0, (done) => connection.release(tenantId, done));
        if (connection.closed) subscription.connectionLost();
        else connection.register(tenantId, subscription);
        return { info, subscription };
      });
    },

    /** Replays a run's events with seq > after, then follows it live until run-end. */
    async subscribe(tenantId: string, runId: string, after: number): Promise<{ info: RunInfo; subscription: RunSubscription }> {
      options.onRun?.(runId);
      return withConnection(tenantId, runId, async (connection) => {
        const subscription = new RunSubscription(runId, after, (done) => connection.release(tenantId, done));
        connection.register(tenantId, subscription);
        try {
          const info = parseInfo(await connection.request(tenantId, "runs.subscribe", { runId, after }, startTimeoutMs));
          // A finished run with nothing after `after` sends nothing more: the stream ends at once. (A run
          // its gateway lost has lastSeq 0, "not known": its run_interrupted end comes after any seq.)
          if (info.status !== "queued" && info.status !== "running" && info.lastSeq > 0 && info.lastSeq <= after && !subscription.closed) {
            subscription.closed = true;
            connection.release(tenantId, subscription);
          }
          return { info, subscription };
        } catch (error) {
          connection.release(tenantId, subscription);
          throw error;
        }
      });
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
