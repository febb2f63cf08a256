import { z } from "zod";

/** The default namespace of every Redis key and channel the services share (REDIS_KEY_PREFIX). */
export const DEFAULT_REDIS_KEY_PREFIX = "workforce:";

/** One gateway of a cluster as it registers itself in Redis (decision 027). */
export const ClusterMember = z.object({
  /** Unique per process start (`${hostname}-${pid}-${random6}`). */
  memberId: z.string().min(1).max(200),
  /** Where the other services reach it (GATEWAY_ADVERTISE_URL). */
  url: z.string().url().refine((value) => /^https?:\/\//.test(value), { message: "must be an http(s) URL" }),
  /** ISO time the process joined. */
  startedAt: z.string(),
});
export type ClusterMember = z.infer<typeof ClusterMember>;

/** `GET /v1/cluster/members`: the live gateways as this one sees them, itself included. */
export const ClusterMembers = z.object({
  /** Whether membership lives in Redis (REDIS_URL); a lone gateway lists only itself. */
  clustered: z.boolean(),
  self: z.string(),
  members: z.array(ClusterMember),
});
export type ClusterMembers = z.infer<typeof ClusterMembers>;

/**
 * Where members live in Redis: a HASH memberId → JSON ClusterMember, and per member a liveness
 * key with a TTL its gateway keeps refreshing. An entry whose liveness key is gone is dead.
 */
export const clusterKeys = (prefix: string) => ({
  members: `${prefix}members`,
  liveness: (memberId: string) => `${prefix}member:${memberId}`,
});

/** Parses one HASH value into a member; undefined for anything malformed (pruned like a dead one). */
export function parseClusterMember(memberId: string, value: string): ClusterMember | undefined {
  try {
    const parsed = ClusterMember.safeParse(JSON.parse(value));
    return parsed.success && parsed.data.memberId === memberId ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Splits what HGETALL of the members HASH returned into the live members and the ids to prune,
 * given which liveness keys still exist (`alive[i]` for the i-th entry of `entries`).
 */
export function sortClusterMembers(entries: readonly [string, string][], alive: readonly boolean[]): { live: ClusterMember[]; dead: string[] } {
  const live: ClusterMember[] = [];
  const dead: string[] = [];
  entries.forEach(([memberId, value], index) => {
    const member = alive[index] ? parseClusterMember(memberId, value) : undefined;
    if (member) live.push(member);
    else dead.push(memberId);
  });
  live.sort((a, b) => a.memberId.localeCompare(b.memberId));
  return { live, dead };
}

/** Set by a gateway that forwards a submit to the member holding the session's run lease: the receiver runs it itself, never forwards again. */
export const FORWARDED_BY_HEADER = "x-workforce-forwarded-by";
/** With FORWARDED_BY_HEADER: the entry point the run came in by (ws, hook, openai…), for metering. */
export const RUN_SOURCE_HEADER = "x-workforce-run-source";
