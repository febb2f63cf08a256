import { z } from "zod";
import type { RedisClient } from "../redis-connection";
import type { RegistryVersion, RegistryVersions } from "../registry-versions";

/** Records a version unless one with a newer fence is there: a stalled ex-holder can never move the version back. */
const RECORD = `
local recorded = tonumber(redis.call('HGET', KEYS[1], 'fence') or '-1')
if recorded > tonumber(ARGV[4]) then return 0 end
redis.call('HSET', KEYS[1], 'generation', ARGV[1], 'journalBytes', ARGV[2], 'journalLines', ARGV[3], 'fence', ARGV[4])
return 1
`;

const count = z.coerce.number().int().nonnegative();
const StoredVersion = z.object({ generation: count, journalBytes: count, journalLines: count, fence: count });

export interface RedisRegistryVersionsOptions {
  /** A connected client (shared with the leases); its owner closes it. */
  client: RedisClient;
  /** Defaults to `workforce:`. */
  keyPrefix?: string;
}

/** Registry versions as Redis hashes `{prefix}registry:{tenantId}/{agent}` (one round trip per read or write). */
export function createRedisRegistryVersions(options: RedisRegistryVersionsOptions): RegistryVersions {
  const prefix = options.keyPrefix ?? "workforce:";
  const keyOf = (registry: string) => `${prefix}registry:${registry}`;
  return {
    async get(registry) {
      const stored = await options.client.hGetAll(keyOf(registry));
      if (Object.keys(stored).length === 0) return undefined;
      const parsed = StoredVersion.safeParse(stored);
      // A hash someone else wrote by hand: treat it as absent, so the next holder rewrites it.
      return parsed.success ? parsed.data : undefined;
    },
    async record(registry, version: RegistryVersion) {
      const argumentsOf = [version.generation, version.journalBytes, version.journalLines, version.fence].map(String);
      const reply = await options.client.eval(RECORD, { keys: [keyOf(registry)], arguments: argumentsOf });
      return reply === 1;
    },
  };
}
