/**
 * compose's Redis, run with its own command and environment (compose's `$$` and `${…}` filled the
 * way `docker compose` fills them) in a network and mount namespace of its own, so it neither
 * meets this machine's Redis on 6379 nor writes this machine's /tmp: a stand-in for its container.
 * Needs root (unshare), redis-server and redis-cli, as CI has.
 */
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { loadCompose, repoRoot, substitute } from "./manifests";

const run = promisify(execFile);
const DOT_ENV = { REDIS_PASSWORD: "0123456789abcdef".repeat(4) };

/** PING through the Redis client the gateway's relay uses (gateway/src/runs/adapters/redis), with the URL it is given. */
const PING_WITH_GATEWAY_CLIENT = `
const { createClient } = await import("redis");
const client = createClient({ url: process.env.URL, socket: { reconnectStrategy: false } });
client.on("error", () => undefined);
try { await client.connect(); console.log(await client.ping()); await client.quit(); }
catch (error) { console.log(String(error.message).split("\\n")[0]); }`;

/** Single-quotes a value for sh. */
const quoted = (value: string) => `'${value.replaceAll("'", `'\\''`)}'`;

describe("compose's Redis", () => {
  it("demands the password from .env, keeps it off its command line, and answers its health check and the gateway's REDIS_URL", async () => {
    const { redis, gateway } = (await loadCompose()).services;
    const command = redis!.command!.map((word) => substitute(word, DOT_ENV));
    const environment = Object.entries(redis!.environment).map(([name, value]) => `${name}=${quoted(substitute(value, DOT_ENV))}`);
    const healthcheck = redis!.healthcheck!.test;
    expect(healthcheck[0]).toBe("CMD-SHELL");
    // The gateway's URL, with compose's service name replaced by this namespace's loopback.
    const redisUrl = substitute(gateway!.environment.REDIS_URL!, DOT_ENV).replace("@redis:", "@127.0.0.1:");
    const script = [
      "set -u",
      "ip link set lo up",
      // A fresh /tmp as in the container, with this checkout bound back in place: a checkout under
      // /tmp (a CI clone) would vanish under the tmpfs, and node with it.
      `mount --bind ${quoted(repoRoot)} /mnt`,
      "mount -t tmpfs tmpfs /tmp",
      `mkdir -p ${quoted(repoRoot)} && mount --bind /mnt ${quoted(repoRoot)}`,
      `env ${environment.join(" ")} ${command.map(quoted).join(" ")} >/dev/null 2>&1 &`,
      "server=$!",
      "for attempt in $(seq 1 100); do redis-cli --no-auth-warning -u " + quoted(redisUrl) + " ping 2>/dev/null | grep -q PONG && break; sleep 0.1; done",
      `echo "health=$(env ${environment.join(" ")} sh -c ${quoted(healthcheck[1]!)} && echo ok || echo failed)"`,
      `echo "anonymous=$(redis-cli ping 2>&1)"`,
      `echo "gateway=$(URL=${quoted(redisUrl)} node --input-type=module -e ${quoted(PING_WITH_GATEWAY_CLIENT)})"`,
      `echo "wrong=$(URL=${quoted(redisUrl.replace(DOT_ENV.REDIS_PASSWORD, "guess"))} node --input-type=module -e ${quoted(PING_WITH_GATEWAY_CLIENT)})"`,
      // env and sh exec into redis-server, so $server is its pid: its command line, as ps on the host shows it.
      `echo "cmdline=$(tr '\\0' ' ' < /proc/$server/cmdline)"`,
      `echo "config=$(stat -c %a /tmp/redis.conf)"`,
      "kill $server; wait $server 2>/dev/null; true",
    ].join("\n");
    const { stdout } = await run("unshare", ["--mount", "--net", "sh", "-c", script], { cwd: path.join(repoRoot, "gateway"), timeout: 60_000 });
    const answers = Object.fromEntries(stdout.trim().split("\n").map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]));
    expect(answers.health).toBe("ok");
    expect(answers.gateway).toBe("PONG");
    expect(answers.anonymous).toMatch(/NOAUTH/);
    expect(answers.wrong).toMatch(/WRONGPASS|invalid password/);
    expect(answers.cmdline).toMatch(/redis-server/);
    expect(answers.cmdline).not.toContain(DOT_ENV.REDIS_PASSWORD);
    expect(answers.config).toBe("600");
  }, 120_000);
});
