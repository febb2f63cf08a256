import type { ClusterMember } from "@workforce/protocol";
import type { RedisMembershipOptions } from "./adapters/redis-membership";

/**
 * Which gateways are alive (decision 027). In cluster mode (REDIS_URL) each gateway registers
 * itself with the URL the others and the platform reach it at, and keeps a liveness key alive;
 * alone, it knows only itself. Implementations: `adapters/redis-membership`, `createLocalMembership`.
 */
export interface Membership {
  readonly memberId: string;
  /** Whether membership is shared with other gateways (Redis). */
  readonly clustered: boolean;
  /** Registers this gateway at `url` and keeps it registered (heartbeats) until `leave`. */
  join(url: string): Promise<void>;
  /** The live members, itself included once joined, sorted by id. Throws when they cannot be read. */
  members(): Promise<ClusterMember[]>;
  /** Removes this gateway at once (a clean shutdown); others then stop routing to it. Never throws. */
  leave(): Promise<void>;
}

/** A gateway without Redis: a cluster of one. */
export function createLocalMembership(memberId: string, now: () => Date = () => new Date()): Membership {
  let self: ClusterMember | undefined;
  return {
    memberId,
    clustered: false,
    async join(url) {
      self = { memberId, url, startedAt: now().toISOString() };
    },
    async members() {
      return self ? [self] : [];
    },
    async leave() {
      self = undefined;
    },
  };
}

/** Membership in Redis, its client loaded only when configured (a lone gateway never needs the module). */
export function lazyRedisMembership(options: RedisMembershipOptions): Membership {
  const loading = import("./adapters/redis-membership").then(({ createRedisMembership }) => createRedisMembership(options));
  return {
    memberId: options.memberId,
    clustered: true,
    join: async (url) => (await loading).join(url),
    members: async () => (await loading).members(),
    leave: async () => (await loading).leave(),
  };
}
