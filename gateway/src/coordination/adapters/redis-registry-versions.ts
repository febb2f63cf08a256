import { AppError } from "@workforce/protocol";
import { z } from "zod";
import type { Logger } from "../../logger";
import { describeRedisError, newRedisClient, redactedRedisUrl, type RedisClient } from "../redis-connection";
import type { RegistryVersion, RegistryVersions } from "../registry-versions";

/** Records a version unless one with a newer fence is there: a stalled ex-holder can never move the version back. */
const RECORD = `
local recorded = tonumber(redis.call('HGET', KEYS[1], 'fence') or '-1')
if recorded > tonumber(ARGV[4]) then return 0 end
redis.call('HSET', KEYS[1], 'generation', ARGV[1], 'journalBytes', ARGV[2], 'journalLines', ARGV[3], 'fence', ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1
`;

const count = z.coerce.number().int().nonnegative();
const StoredVersion = z.object({ generation: count, journalBytes: count, journalLines: count, fence: count });

export interface RedisRegistryVersionsOptions {
  /** REDIS_URL; the versions open (and close) their own connection. Either this or `client`. */
  url?: string;
  /** A connection the caller opens and closes (shared with other adapters). */
  client?: RedisClient;
  logger: Logger;
  /** Namespace of every key (tests use their own); default `workforce:`. */
  keyPrefix?: string;
  /**
   * How long the version of a registry nobody changes is kept; default 30 days, like the fencing
   * counters. A registry whose version expired (or that Redis lost) is read whole at its next load
   * and rewritten, which records a version again: only slower, never wrong.
   */
  retentionMs?: number;
}

/** Registry versions as Redis hashes `{prefix}registry:{tenantId}/{agent}`: one round trip per read or write. */
export function createRedisRegistryVersions(options: RedisRegistryVersionsOptions): RegistryVersions {
  const prefix = options.keyPrefix ?? "workforce:";
  const retentionMs = String(options.retentionMs ?? 30 * 24 * 3_600_000);
  const where = options.url ? redactedRedisUrl(options.url) : "Redis";
  const warn = (message: string) => options.logger.warn(`registry versions (${where}): ${message}`);
  let client: RedisClient;
  if (options.client) client = options.client;
  else if (options.url) client = newRedisClient(options.url, (error) => warn(`connection problem: ${describeRedisError(error)}`));
  else throw new Error("createRedisRegistryVersions needs a url or a client");
  const owned = options.client === undefined;
  const ready = owned ? client.connect().then(() => undefined, (error: unknown) => warn(`cannot connect: ${describeRedisError(error)}`)) : Promise.resolve();
  const keyOf = (registry: string) => `${prefix}registry:${registry}`;

  /** Without its version a registry can neither be read safely nor written: the request fails, retryably. */
  async function redis<T>(command: () => Promise<T>): Promise<T> {
    await ready;
    try {
      return await command();
    } catch (error) {
      warn(describeRedisError(error));
      throw new AppError("storage_unavailable", "the cluster's coordination store (Redis) is unreachable; try again shortly", { retryable: true, cause: error });
    }
  }

  return {
    async get(registry) {
      const stored = await redis(() => client.hGetAll(keyOf(registry)));
      if (Object.keys(stored).length === 0) return undefined;
      const parsed = StoredVersion.safeParse(stored);
      // A hash someone else wrote by hand: treated as absent, so the next holder rewrites the registry and records it anew.
      return parsed.success ? parsed.data : undefined;
    },
    async record(registry, version: RegistryVersion) {
      const argumentsOf = [...[version.generation, version.journalBytes, version.journalLines, version.fence].map(String), retentionMs];
      return (await redis(() => client.eval(RECORD, { keys: [keyOf(registry)], arguments: argumentsOf }))) === 1;
    },
    async close() {
      if (owned && client.isOpen) await client.close();
    },
  };
}
