import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { AppError } from "@workforce/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { createRobotsRules } from "./robots-rules";

let server: Server | undefined;
afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

/** A site whose robots.txt answers what `answer` says at the moment it is asked; counts the asks. */
async function site(answer: () => { status: number; body?: string }) {
  const asked = { count: 0 };
  server = createServer((request, response) => {
    if (request.url !== "/robots.txt") return void response.writeHead(404).end();
    asked.count++;
    const { status, body } = answer();
    response.writeHead(status, { "content-type": "text/plain" }).end(body ?? "");
  });
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, asked };
}

async function verdict(rules: ReturnType<typeof createRobotsRules>, url: string): Promise<string> {
  return rules.assertAllowed(new URL(url)).then(
    () => "allowed",
    (error: unknown) => (error instanceof AppError ? error.code : String(error)),
  );
}

describe("robots.txt rules", () => {
  it("follow the WorkforceBot group over *, and are asked once per origin until they expire", async () => {
    let clock = 0;
    const { origin, asked } = await site(() => ({ status: 200, body: "User-agent: *\nDisallow: /\n\nUser-agent: WorkforceBot\nDisallow: /drafts/\nAllow: /\n" }));
    const rules = createRobotsRules({ fetch, userAgent: "WorkforceBot/0.1.0", productToken: "WorkforceBot", ttlMs: 1_000, now: () => clock });
    expect(await verdict(rules, `${origin}/articles/tea`)).toBe("allowed");
    expect(await verdict(rules, `${origin}/drafts/secret`)).toBe("web_robots_disallowed");
    expect(asked.count).toBe(1);
    clock = 1_001;
    expect(await verdict(rules, `${origin}/articles/tea`)).toBe("allowed");
    expect(asked.count).toBe(2);
  });

  it("allow everything when the site has no robots.txt, and nothing while it fails (RFC 9309)", async () => {
    let status = 404;
    let clock = 0;
    const { origin } = await site(() => ({ status }));
    const rules = createRobotsRules({ fetch, userAgent: "WorkforceBot/0.1.0", productToken: "WorkforceBot", ttlMs: 1_000, now: () => clock });
    expect(await verdict(rules, `${origin}/anything`)).toBe("allowed");
    status = 503;
    clock = 1_001;
    expect(await verdict(rules, `${origin}/anything`)).toBe("web_robots_disallowed");
  });
});
