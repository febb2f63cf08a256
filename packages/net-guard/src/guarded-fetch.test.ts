import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { AppError } from "@workforce/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { assertPublicUrl, createGuardedFetch, type GuardedFetch, type Resolver } from "./guarded-fetch";
import type { OutboundPolicy } from "./outbound-policy";

interface LocalServer {
  port: number;
  /** Paths requested so far. */
  hits: string[];
  close(): Promise<void>;
}

/** A real HTTP server on loopback; `redirectTo` makes every request answer 302 there. */
async function startServer(answer: (path: string) => { status: number; location?: string; body?: string }): Promise<LocalServer> {
  const hits: string[] = [];
  const server: Server = createServer((request, response) => {
    hits.push(request.url ?? "");
    const { status, location, body } = answer(request.url ?? "/");
    response.writeHead(status, location ? { location } : { "content-type": "text/plain" });
    response.end(body ?? "");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    hits,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const open: (LocalServer | GuardedFetch)[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((item) => item.close()));
});

async function server(answer: Parameters<typeof startServer>[0] = () => ({ status: 200, body: "hello from the inside" })) {
  const started = await startServer(answer);
  open.push(started);
  return started;
}

function guarded(policy: Partial<OutboundPolicy> = {}, resolve?: Resolver, ca?: string): GuardedFetch {
  const fetch = createGuardedFetch({ allowPrivateNetwork: false, allowHosts: [], ...policy }, { ...(resolve ? { resolve } : {}), ...(ca ? { ca } : {}) });
  open.push(fetch);
  return fetch;
}

async function refusal(promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(AppError);
  expect((error as AppError).code).toBe("outbound_blocked");
  return error as AppError;
}

describe("the guarded fetch", () => {
  it("refuses loopback by default, naming the host, why, and the variables that allow it", async () => {
    const inside = await server();
    const error = await refusal(guarded()(`http://127.0.0.1:${inside.port}/secret`));
    expect(error.message).toContain(`127.0.0.1:${inside.port}`);
    expect(error.message).toContain("loopback");
    expect(error.message).toContain(`WORKFORCE_OUTBOUND_ALLOW_HOSTS=127.0.0.1:${inside.port}`);
    expect(error.message).toContain("WORKFORCE_OUTBOUND_ALLOW_PRIVATE=true");
    expect(inside.hits).toEqual([]);
  });

  it("refuses a name that resolves to loopback (localhost)", async () => {
    const inside = await server();
    const error = await refusal(guarded()(`http://localhost:${inside.port}/`));
    expect(error.message).toMatch(/localhost:\d+ refused: resolves to (127\.0\.0\.1|::1)/);
    expect(inside.hits).toEqual([]);
  });

  it("refuses the decimal, octal, hex and IPv6 spellings of loopback, and non-http schemes", async () => {
    const inside = await server();
    const fetch = guarded();
    for (const host of ["2130706433", "0x7f.0.0.1", "0177.0.0.1", "127.1", "[::ffff:127.0.0.1]", "[::ffff:7f00:1]"]) {
      const error = await refusal(fetch(`http://${host}:${inside.port}/`));
      expect(error.message).toContain("127.0.0.1");
    }
    expect((await refusal(fetch("file:///etc/passwd"))).message).toContain("only http: and https:");
    expect((await refusal(fetch("ftp://example.com/"))).message).toContain("only http: and https:");
    expect(inside.hits).toEqual([]);
  });

  it("reaches a private address the operator allowed by host:port, and only that port", async () => {
    const inside = await server();
    const other = await server();
    const fetch = guarded({ allowHosts: [`127.0.0.1:${inside.port}`] });
    const response = await fetch(`http://127.0.0.1:${inside.port}/ok`);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe("hello from the inside");
    await refusal(fetch(`http://127.0.0.1:${other.port}/`));
    expect(other.hits).toEqual([]);
  });

  it("reaches everything with WORKFORCE_OUTBOUND_ALLOW_PRIVATE", async () => {
    const inside = await server();
    const response = await guarded({ allowPrivateNetwork: true })(`http://localhost:${inside.port}/`);
    expect(await response.text()).toBe("hello from the inside");
  });

  it("follows redirects between allowed servers, and refuses a hop to a private address that is not allowed", async () => {
    const target = await server();
    const hopper = await server((path) =>
      path === "/to-allowed" ? { status: 302, location: "/landed" } : path === "/landed" ? { status: 200, body: "landed" } : { status: 301, location: `http://127.0.0.1:${target.port}/metadata` },
    );
    const fetch = guarded({ allowHosts: [`127.0.0.1:${hopper.port}`] });
    const followed = await fetch(`http://127.0.0.1:${hopper.port}/to-allowed`);
    expect(await followed.text()).toBe("landed");
    expect(followed.url).toBe(`http://127.0.0.1:${hopper.port}/landed`);
    const error = await refusal(fetch(`http://127.0.0.1:${hopper.port}/to-private`));
    expect(error.message).toContain(`127.0.0.1:${target.port}`);
    expect(target.hits).toEqual([]);
  });

  it("gives up after five redirects", async () => {
    const loop = await server((path) => ({ status: 302, location: `/hop${Number(path.slice(4) || 0) + 1}` }));
    const error = await guarded({ allowHosts: [`127.0.0.1:${loop.port}`] })(`http://127.0.0.1:${loop.port}/hop0`).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TypeError);
    expect(String((error as TypeError).cause)).toContain("more than 5 redirects");
    expect(loop.hits).toHaveLength(6);
  });

  it("checks the address it connects to: a name that answered public at registration and private at connect time is refused", async () => {
    const inside = await server();
    const answers = ["93.184.215.14", "127.0.0.1"];
    const rebinding: Resolver = async () => [{ address: answers.shift() ?? "127.0.0.1", family: 4 }];
    const url = `http://rebind.example:${inside.port}/`;
    await assertPublicUrl(url, { allowPrivateNetwork: false, allowHosts: [] }, { resolve: rebinding });
    const error = await refusal(guarded({}, rebinding)(url));
    expect(error.message).toContain("rebind.example");
    expect(error.message).toContain("resolves to 127.0.0.1");
    expect(inside.hits).toEqual([]);
  });

  it("refuses a name with any private address among its answers, and connects to the address it checked", async () => {
    const inside = await server();
    const mixed: Resolver = async () => [
      { address: "93.184.215.14", family: 4 },
      { address: "10.0.0.7", family: 4 },
    ];
    await refusal(guarded({}, mixed)(`http://mixed.example:${inside.port}/`));
    // A made-up name reaches the local server only through the resolver's answer: the one checked.
    const toLoopback: Resolver = async () => [{ address: "127.0.0.1", family: 4 }];
    const response = await guarded({ allowHosts: [`internal.example:${inside.port}`] }, toLoopback)(`http://internal.example:${inside.port}/via-name`);
    expect(await response.text()).toBe("hello from the inside");
    expect(inside.hits).toEqual(["/via-name"]);
  });

  it("tries the next checked address when one cannot be reached", async () => {
    const inside = await server();
    // The server listens on 127.0.0.1 only: ::1 refuses (or has no route), 127.0.0.1 answers.
    const twoAddresses: Resolver = async () => [
      { address: "::1", family: 6 },
      { address: "127.0.0.1", family: 4 },
    ];
    const response = await guarded({ allowHosts: [`dual.example:${inside.port}`] }, twoAddresses)(`http://dual.example:${inside.port}/`);
    expect(await response.text()).toBe("hello from the inside");
  });

  it("checks URLs at registration: scheme, literal addresses and what the name resolves to", async () => {
    const policy: OutboundPolicy = { allowPrivateNetwork: false, allowHosts: [] };
    await expect(assertPublicUrl("https://example.com/mcp", policy, { resolve: async () => [{ address: "93.184.215.14", family: 4 }] })).resolves.toBeUndefined();
    expect((await refusal(assertPublicUrl("http://169.254.169.254/latest/meta-data", policy))).message).toContain("metadata");
    expect((await refusal(assertPublicUrl("http://[fd00::1]/", policy))).message).toContain("unique local");
    await refusal(assertPublicUrl("http://ollama.lan:11434/v1", policy, { resolve: async () => [{ address: "192.168.1.20", family: 4 }] }));
    await expect(
      assertPublicUrl("http://ollama.lan:11434/v1", { allowPrivateNetwork: false, allowHosts: ["ollama.lan:11434"] }, { resolve: async () => [{ address: "192.168.1.20", family: 4 }] }),
    ).resolves.toBeUndefined();
    await refusal(assertPublicUrl("javascript:alert(1)", policy));
  });

  it("keeps HTTPS checking the certificate against the host name, not the address it connected to", async () => {
    const fixture = (name: string) => readFileSync(new URL(`./test-fixtures/${name}`, import.meta.url), "utf8");
    const cert = fixture("tls-example.cert.pem");
    const hits: string[] = [];
    const server = createHttpsServer({ key: fixture("tls-example.key.pem"), cert }, (request, response) => {
      hits.push(`${request.headers.host} ${request.url}`);
      response.end("secure hello");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    open.push({ port: 0, hits, close: () => new Promise((resolve) => server.close(() => resolve())) });
    const port = (server.address() as AddressInfo).port;
    const toServer: Resolver = async () => [{ address: "127.0.0.1", family: 4 }];
    const fetch = guarded({ allowHosts: [`tls.example:${port}`, `other.example:${port}`] }, toServer, cert);
    const response = await fetch(`https://tls.example:${port}/page`);
    expect(await response.text()).toBe("secure hello");
    expect(hits).toEqual([`tls.example:${port} /page`]);
    // Same address, another name: the certificate does not name it, so the connection fails.
    const error = await fetch(`https://other.example:${port}/page`).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TypeError);
    expect(String((error as TypeError).cause)).toMatch(/other\.example|altnames/i);
    expect(hits).toHaveLength(1);
  });
});
