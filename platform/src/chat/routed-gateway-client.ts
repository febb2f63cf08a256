import { randomUUID } from "node:crypto";
import { AppError, type ClusterMember, type RunInfo } from "@workforce/protocol";
import { createGatewayClient, type GatewayClient, type GatewayClientOptions } from "../gateway-client";
import type { RunSubscription } from "../gateway-run-streams";
import type { GatewayMembers } from "./gateway-members";
import { rendezvousOrder, sessionRoutingKey } from "./rendezvous";
import { ResumingRunStream, type RunStreams } from "./resuming-run-stream";

export interface RoutedGatewayClientOptions extends Omit<GatewayClientOptions, "baseUrl"> {
  /** CLAWDBOT_GATEWAY_URL: used while no live member is known (Redis unreadable, nothing registered yet). */
  fallbackUrl: string;
  /** The live gateways (REDIS_URL). */
  members: GatewayMembers;
  /** Builds one gateway's client (tests count calls); createGatewayClient by default. */
  connect?: (options: GatewayClientOptions) => ReturnType<typeof createGatewayClient>;
}

/** A connection that was never made: nothing reached the gateway, so trying another one is safe. */
function neverReached(error: unknown): boolean {
  for (let cause = error; cause instanceof Error; cause = cause.cause) {
    const code = (cause as Error & { code?: unknown }).code;
    if (code === "ECONNREFUSED" || code === "EHOSTUNREACH" || code === "ENOTFOUND" || code === "EAI_AGAIN" || code === "ENETUNREACH") return true;
  }
  return false;
}

const unavailable = (error: unknown) => error instanceof AppError && error.code === "gateway_unavailable";

/**
 * The gateway client of a platform in a cluster (decision 027): a session's messages go to the
 * gateway picked by rendezvous hashing of tenant/agent/session over the live members (the one
 * that most likely holds its run lease), everything else to the tenant's pick; a gateway that
 * cannot be reached is skipped for the next in the order, and the list re-read. Run streams resume
 * through another gateway when theirs goes away mid-run.
 */
export function createRoutedGatewayClient(options: RoutedGatewayClientOptions): GatewayClient {
  const { fallbackUrl, members, connect = createGatewayClient, ...shared } = options;
  const clients = new Map<string, ReturnType<typeof createGatewayClient>>();
  const clientAt = (url: string) => {
    let client = clients.get(url);
    if (!client) clients.set(url, (client = connect({ ...shared, baseUrl: url })));
    return client;
  };
  const fallback = clientAt(fallbackUrl);

  /** Where to go for `key`, best first; CLAWDBOT_GATEWAY_URL alone while no member is known. */
  async function orderFor(key: string, skip: ReadonlySet<string> = new Set()): Promise<string[]> {
    const live = (await members.list()).filter((member: ClusterMember) => !skip.has(member.url));
    if (live.length === 0) return skip.has(fallbackUrl) ? [] : [fallbackUrl];
    const urls = new Map(live.map((member) => [member.memberId, member.url]));
    return rendezvousOrder(key, [...urls.keys()]).map((memberId) => urls.get(memberId) ?? fallbackUrl);
  }

  /**
   * Calls the first gateway for `key`, then the next ones while the call provably never reached
   * one (or `retryable` says a repeat is harmless); the member list is re-read after each failure.
   */
  async function routed<T>(key: string, call: (client: ReturnType<typeof createGatewayClient>, url: string) => Promise<T>, retryable = (error: unknown) => neverReached(error)): Promise<T> {
    const failed = new Set<string>();
    for (;;) {
      const [url] = await orderFor(key, failed);
      if (url === undefined) throw new AppError("gateway_unavailable", "No agent gateway is reachable right now", { retryable: true });
      try {
        return await call(clientAt(url), url);
      } catch (error) {
        if (!unavailable(error) || !retryable(error)) throw error;
        failed.add(url);
        members.invalidate();
      }
    }
  }

  /** Follows a run through the gateway for `key`, and again through the next ones if that one goes away before run-end. */
  function follow(key: string, tenantId: string, runId: string, first: { subscription: RunSubscription }, after: number): ResumingRunStream {
    return new ResumingRunStream(runId, first.subscription, after, (from) => {
      // The gateway that dropped it may still be listed (until its liveness key expires): it is then skipped as unreachable.
      members.invalidate();
      return routed(key, async (client) => (await client.streams.subscribe(tenantId, runId, from)).subscription, () => true);
    });
  }

  const streams: RunStreams = {
    async startRun(tenantId, agent, given, actor) {
      const key = sessionRoutingKey(tenantId, agent, given.sessionKey);
      // Every send carries an idempotency key (the caller's, or one of ours), so a send that may have
      // reached a gateway which then died (its socket closed under the request: a killed process)
      // can be repeated on the next one: the cluster's shared keys make the repeat join the first
      // attempt's run if it started, and start it once if it did not.
      const input = given.idempotencyKey === undefined ? { ...given, idempotencyKey: `platform-send:${randomUUID()}` } : given;
      const started = await routed(key, async (client, url) => ({ url, ...(await client.streams.startRun(tenantId, agent, input, actor)) }), () => true);
      return { info: started.info, subscription: follow(key, tenantId, started.info.runId, started, 0) };
    },
    async subscribe(tenantId, runId, after, session) {
      const key = session ? sessionRoutingKey(tenantId, session.agent, session.sessionKey) : `${tenantId}/run/${runId}`;
      const started: { url: string; info: RunInfo; subscription: RunSubscription } = await routed(key, async (client, url) => ({ url, ...(await client.streams.subscribe(tenantId, runId, after)) }), () => true);
      return { info: started.info, subscription: follow(key, tenantId, runId, started, after) };
    },
    stats() {
      const all = [...clients.values()].map((client) => client.streams.stats());
      return { connections: all.reduce((sum, each) => sum + each.connections, 0), runs: all.reduce((sum, each) => sum + each.runs, 0) };
    },
    close() {
      for (const client of clients.values()) client.streams.close();
    },
  };

  const byTenant = <T>(tenantId: string, call: (client: ReturnType<typeof createGatewayClient>) => Promise<T>) => routed(tenantId, call);
  return {
    baseUrl: fallback.baseUrl,
    streams,
    health: (timeout) => routed("", (client) => client.health(timeout)),
    listAgents: (tenantId) => byTenant(tenantId, (client) => client.listAgents(tenantId)),
    createAgent: (tenantId, input) => byTenant(tenantId, (client) => client.createAgent(tenantId, input)),
    getAgent: (tenantId, slug) => byTenant(tenantId, (client) => client.getAgent(tenantId, slug)),
    updateAgent: (tenantId, slug, update) => byTenant(tenantId, (client) => client.updateAgent(tenantId, slug, update)),
    deleteAgent: (tenantId, slug) => byTenant(tenantId, (client) => client.deleteAgent(tenantId, slug)),
    heartbeatFile: (tenantId, slug) => byTenant(tenantId, (client) => client.heartbeatFile(tenantId, slug)),
    setHeartbeatFile: (tenantId, slug, content) => byTenant(tenantId, (client) => client.setHeartbeatFile(tenantId, slug, content)),
    listSessions: (tenantId, slug) => byTenant(tenantId, (client) => client.listSessions(tenantId, slug)),
    getSession: (tenantId, slug, key) => byTenant(tenantId, (client) => client.getSession(tenantId, slug, key)),
    getAttachment: (tenantId, slug, key, id) => byTenant(tenantId, (client) => client.getAttachment(tenantId, slug, key, id)),
    renameSession: (tenantId, slug, key, title) => byTenant(tenantId, (client) => client.renameSession(tenantId, slug, key, title)),
    titleSession: (tenantId, slug, key, input, actor) => byTenant(tenantId, (client) => client.titleSession(tenantId, slug, key, input, actor)),
    deleteSession: (tenantId, slug, key) => byTenant(tenantId, (client) => client.deleteSession(tenantId, slug, key)),
    deleteTenantData: (tenantId) => byTenant(tenantId, (client) => client.deleteTenantData(tenantId)),
    usageJournal: (tenantId, after) => byTenant(tenantId, (client) => client.usageJournal(tenantId, after)),
    usagePending: (cursors) => routed("", (client) => client.usagePending(cursors)),
    tenantDisk: (tenantId, timeout) => byTenant(tenantId, (client) => client.tenantDisk(tenantId, timeout)),
    putTenantPolicy: (tenantId, policy) => byTenant(tenantId, (client) => client.putTenantPolicy(tenantId, policy)),
    getTenantPolicy: (tenantId) => byTenant(tenantId, (client) => client.getTenantPolicy(tenantId)),
    capabilities: () => routed("", (client) => client.capabilities()),
    models: () => routed("", (client) => client.models()),
    // To the gateway of its session; the idempotency key every platform-fired run carries makes a repeat join the first attempt.
    startRun: (tenantId, agent, input, actor) =>
      routed(sessionRoutingKey(tenantId, agent, input.sessionKey), (client) => client.startRun(tenantId, agent, input, actor), input.idempotencyKey === undefined ? neverReached : () => true),
    // To the gateway of its session; the gateway joins a repeated decision to its first run, so a retry is always safe.
    decideApproval: (tenantId, agent, key, approvalId, input, actor) =>
      routed(sessionRoutingKey(tenantId, agent, key), (client) => client.decideApproval(tenantId, agent, key, approvalId, input, actor), () => true),
    getRun: (tenantId, runId) => byTenant(tenantId, (client) => client.getRun(tenantId, runId)),
    abortRun: (tenantId, runId) => byTenant(tenantId, (client) => client.abortRun(tenantId, runId)),
    listMcpTools: (tenantId, server) => byTenant(tenantId, (client) => client.listMcpTools(tenantId, server)),
  };
}
