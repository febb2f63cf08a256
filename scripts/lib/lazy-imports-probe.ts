/**
 * Runs every package the services import on first use, the way the services use it, in a bundle
 * built with the services' own esbuild options (scripts/lib/lazy-imports.test.ts builds and runs
 * it). Prints one JSON line: what each one answered.
 */
import { createGuardedFetch } from "@workforce/net-guard";
import { slugFromName } from "../../gateway/src/agents/agent-slug";
import { createRedisGatewayMembers } from "../../platform/src/chat/gateway-members";

const [httpUrl, closedRedisUrl] = process.argv.slice(2) as [string, string];

async function guardedFetch(): Promise<string> {
  const fetch = createGuardedFetch({ allowPrivateNetwork: true, allowHosts: [] });
  try {
    return await (await fetch(httpUrl)).text();
  } finally {
    await fetch.close();
  }
}

/** What the platform's membership reader reports when its Redis is down: a connection problem, not a missing export. */
async function gatewayMembers(): Promise<string[]> {
  const reported: string[] = [];
  const members = createRedisGatewayMembers({
    url: closedRedisUrl,
    logError: (message, error) => reported.push(`${message}: ${error instanceof Error ? `${error.name} ${error.message}` : String(error)}`),
  });
  const listed = await members.list();
  await members.close();
  return [`listed ${listed.length}`, ...reported];
}

const outcome = async (run: () => Promise<unknown>) => {
  try {
    return { ok: await run() };
  } catch (error) {
    return { failed: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
  }
};

process.stdout.write(
  `${JSON.stringify({
    undici: await outcome(guardedFetch),
    redis: await outcome(gatewayMembers),
    anyAscii: await outcome(() => slugFromName("研究员 Исследователь")),
  })}\n`,
);
process.exit(0);
