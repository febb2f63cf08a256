import type { McpServerConnection } from "@workforce/protocol";
import { errorText, type Logger } from "../../logger";
import type { McpSession } from "./mcp-session";

/** Opens a session to a server (connectMcpSession with the gateway's fetch and timeouts). */
export type OpenMcpSession = (server: McpServerConnection, hooks: { onToolsChanged(): void; onClosed(): void }, signal: AbortSignal) => Promise<McpSession>;

export interface McpSessionPoolOptions {
  open: OpenMcpSession;
  logger: Logger;
  /** Sessions one tenant may hold (WORKFORCE_MCP_MAX_SESSIONS_PER_TENANT). */
  maxPerTenant: number;
  /** Sessions this gateway may hold across tenants (WORKFORCE_MCP_MAX_SESSIONS). */
  maxTotal: number;
  /** How long a session no run uses stays open. */
  idleMs: number;
  now?: () => number;
  /** Told when a server said its tools changed (for logs and tests). */
  onToolsChanged?: (tenantId: string, serverId: string) => void;
}

/** A session lent to one run; release() once the run is done with it. */
export interface McpLease {
  session: McpSession;
  release(): void;
}

/** The tenant (or the gateway) holds as many sessions as it may, all of them in use by runs. */
export class McpPoolFullError extends Error {}

interface Entry {
  key: string;
  tenantId: string;
  serverId: string;
  ready: Promise<McpSession>;
  session?: McpSession;
  leases: number;
  lastUsed: number;
  idleTimer?: NodeJS.Timeout;
  /** A newer revision replaced it, or its connection ended: closed once no run uses it. */
  retired: boolean;
}

export interface McpSessionPool {
  acquire(tenantId: string, server: McpServerConnection, signal: AbortSignal): Promise<McpLease>;
  /** Sessions open (or opening) for one tenant, or in all. */
  size(tenantId?: string): number;
  close(): Promise<void>;
}

/**
 * MCP client sessions kept between runs, keyed by (tenant, server, revision): a tenant's session
 * is never lent to another tenant, even for the same URL, and a changed revision (new URL,
 * transport or headers) opens a new session while the old one closes once no run uses it.
 * Sessions nobody uses close after `idleMs`. When a tenant (or the gateway) is at its bound, the
 * least recently used idle session makes room; if every one is in use, acquire refuses.
 */
export function createMcpSessionPool(options: McpSessionPoolOptions): McpSessionPool {
  const entries = new Map<string, Entry>();
  const now = options.now ?? Date.now;
  let closing = false;

  const keyOf = (tenantId: string, server: McpServerConnection) => JSON.stringify([tenantId, server.serverId, server.revision]);

  function drop(entry: Entry): void {
    if (entries.get(entry.key) === entry) entries.delete(entry.key);
    clearTimeout(entry.idleTimer);
    void entry.ready.then(
      (session) => session.close(),
      () => undefined,
    ).catch((error: unknown) => options.logger.warn(`closing an MCP session failed: ${errorText(error)}`));
  }

  function retire(entry: Entry): void {
    entry.retired = true;
    if (entries.get(entry.key) === entry) entries.delete(entry.key);
    if (entry.leases === 0) drop(entry);
  }

  /** Closes the least recently used idle session among `candidates`; false when all are in use. */
  function evictIdle(candidates: Entry[]): boolean {
    const idle = candidates.filter((entry) => entry.leases === 0).sort((a, b) => a.lastUsed - b.lastUsed)[0];
    if (!idle) return false;
    drop(idle);
    return true;
  }

  function makeRoom(tenantId: string): void {
    const all = [...entries.values()];
    const tenant = all.filter((entry) => entry.tenantId === tenantId);
    if (tenant.length >= options.maxPerTenant && !evictIdle(tenant)) {
      throw new McpPoolFullError(`the organisation already has ${options.maxPerTenant} MCP sessions in use by its runs (WORKFORCE_MCP_MAX_SESSIONS_PER_TENANT)`);
    }
    if (entries.size >= options.maxTotal && !evictIdle([...entries.values()])) {
      throw new McpPoolFullError(`this gateway already has ${options.maxTotal} MCP sessions in use (WORKFORCE_MCP_MAX_SESSIONS)`);
    }
  }

  function lease(entry: Entry, session: McpSession): McpLease {
    let released = false;
    return {
      session,
      release() {
        if (released) return;
        released = true;
        entry.leases -= 1;
        entry.lastUsed = now();
        if (entry.leases > 0) return;
        if (entry.retired || session.closed || closing) {
          drop(entry);
          return;
        }
        entry.idleTimer = setTimeout(() => drop(entry), options.idleMs);
        entry.idleTimer.unref();
      },
    };
  }

  return {
    async acquire(tenantId, server, signal) {
      if (closing) throw new McpPoolFullError("the gateway is shutting down");
      const key = keyOf(tenantId, server);
      let entry = entries.get(key);
      if (entry?.session?.closed) {
        retire(entry);
        entry = undefined;
      }
      if (!entry) {
        for (const other of [...entries.values()]) {
          if (other.tenantId === tenantId && other.serverId === server.serverId) retire(other);
        }
        makeRoom(tenantId);
        // The hooks run only once the session exists, by when `created` is set.
        const created: Entry = {
          key,
          tenantId,
          serverId: server.serverId,
          leases: 0,
          lastUsed: now(),
          retired: false,
          ready: options.open(
            server,
            {
              onToolsChanged: () => options.onToolsChanged?.(tenantId, server.serverId),
              onClosed: () => {
                if (entries.get(key) === created) entries.delete(key);
                created.retired = true;
              },
            },
            signal,
          ),
        };
        created.ready.then(
          (session) => {
            created.session = session;
          },
          () => {
            if (entries.get(key) === created) entries.delete(key);
          },
        );
        entries.set(key, created);
        entry = created;
      }
      clearTimeout(entry.idleTimer);
      entry.leases += 1;
      try {
        const session = await entry.ready;
        return lease(entry, session);
      } catch (error) {
        entry.leases -= 1;
        throw error;
      }
    },
    size(tenantId) {
      if (tenantId === undefined) return entries.size;
      return [...entries.values()].filter((entry) => entry.tenantId === tenantId).length;
    },
    async close() {
      closing = true;
      const all = [...entries.values()];
      entries.clear();
      await Promise.allSettled(
        all.map(async (entry) => {
          clearTimeout(entry.idleTimer);
          const session = await entry.ready;
          await session.close();
        }),
      );
    },
  };
}
