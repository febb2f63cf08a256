/**
 * The cluster's load balancer (HAProxy, deploy/haproxy/haproxy.cfg): read for what a chat needs
 * (unbuffered SSE, timeouts longer than a run, WebSocket upgrades, the client's address, the
 * platforms' readiness) and in step with compose; then checked by haproxy itself and run in front
 * of two small servers, so an SSE stream, a WebSocket and a failover are seen passing through it.
 * Needs the haproxy binary (Debian's `haproxy`, installed by .ci/run).
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket, WebSocketServer } from "ws";
import { loadConfig as loadGatewayConfig } from "../gateway/src/config";
import { HEARTBEAT_MS } from "../platform/src/sse-proxy";
import { freePort } from "../platform/src/test-support/free-port";
import { z } from "zod";
import { clusterServices, environmentOf, loadCompose, loadDeployments, loadHaproxyConfig, loadKubernetes, repoRoot, type HaproxySection } from "./manifests";

const HAPROXY = ["haproxy", "/usr/sbin/haproxy"].find((candidate) => spawnSync(candidate, ["-v"]).status === 0);
if (!HAPROXY && process.env.CI === "true") throw new Error("CI=true but no haproxy binary: apt-get install -y haproxy (see .ci/run)");
if (!HAPROXY) console.warn("load balancer tests against a running HAProxy skipped: no haproxy binary (apt-get install -y haproxy)");

/** HAProxy's time units to milliseconds (a bare number is milliseconds). */
function milliseconds(value: string): number {
  const match = /^(\d+)(us|ms|s|m|h|d)?$/.exec(value);
  if (!match) throw new Error(`unreadable HAProxy time ${value}`);
  return Number(match[1]) * { us: 0.001, ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] ?? "ms"]!;
}

const section = (sections: HaproxySection[], kind: string, name = "") => {
  const found = sections.find((candidate) => candidate.kind === kind && candidate.name === name);
  if (!found) throw new Error(`haproxy.cfg has no ${kind} ${name}`);
  return found;
};
const timeouts = (defaults: HaproxySection) => Object.fromEntries(defaults.lines.filter((line) => line.startsWith("timeout ")).map((line) => [line.split(" ")[1]!, milliseconds(line.split(" ")[2]!)]));
const servers = (backend: HaproxySection) => backend.lines.filter((line) => line.startsWith("server ")).map((line) => ({ name: line.split(" ")[1]!, address: line.split(" ")[2]! }));

describe("the load balancer's configuration", () => {
  it("streams unbuffered, with timeouts longer than any run and its heartbeats, and keeps request lines out of its logs", async () => {
    const { sections } = await loadHaproxyConfig();
    const defaults = section(sections, "defaults");
    expect(defaults.lines).toEqual(expect.arrayContaining(["mode http", "option http-no-delay"]));
    const everything = sections.flatMap((entry) => entry.lines);
    // What would hold an SSE frame back: compression, request buffering. What would log a
    // confirmation link's token: request logs.
    for (const line of everything) expect(line).not.toMatch(/^(compression|option http-buffer-request|option httplog|log-format|log )/);
    const { runTimeoutMs } = loadGatewayConfig(environmentOf((await loadCompose()).services["gateway-1"]!), { port: "18789", bind: "0.0.0.0" }, "/home/nobody");
    const limits = timeouts(defaults);
    for (const side of ["client", "server", "tunnel"]) {
      expect(limits[side], `timeout ${side}`).toBeGreaterThanOrEqual(runTimeoutMs);
      expect(limits[side], `timeout ${side}`).toBeGreaterThan(4 * HEARTBEAT_MS);
    }
    // Only a request's head is short-lived.
    expect(limits["http-request"]).toBeLessThanOrEqual(30_000);
  });

  it("balances the cluster's platforms by open connections, checks the readiness Kubernetes checks, and tells them the client's address", async () => {
    const { sections } = await loadHaproxyConfig();
    const compose = await loadCompose();
    const backend = section(sections, "backend", "platforms");
    const platforms = [...clusterServices(compose.services)].filter((name) => name.startsWith("platform-")).sort();
    expect(servers(backend)).toEqual(platforms.map((name) => ({ name, address: `${name}:${compose.services[name]!.environment.PORT}` })));
    expect(backend.lines).toContain("balance leastconn");
    const readiness = (await loadDeployments()).platform.spec.template.spec.containers[0]!.readinessProbe!.httpGet!.path;
    expect(backend.lines).toContain(`http-check send meth GET uri ${readiness}`);
    expect(backend.lines).toContain("http-check expect status 200");
    // One proxy appends X-Forwarded-For, and the platforms trust exactly one hop.
    expect(section(sections, "defaults").lines).toContain("option forwardfor");
    for (const name of platforms) expect(compose.services[name]!.environment.WORKFORCE_TRUST_PROXY, name).toBe("1");
  });

  it("listens on the port compose publishes, answers compose's health check on its own, and is mounted where the image reads it", async () => {
    const { sections } = await loadHaproxyConfig();
    const lb = (await loadCompose()).services.lb!;
    const containerPort = lb.ports[0]!.split(":").at(-1);
    expect(section(sections, "frontend", "workforce").lines).toContain(`bind :${containerPort}`);
    const health = section(sections, "frontend", "health");
    const [, port] = /^bind 127\.0\.0\.1:(\d+)$/.exec(health.lines.find((line) => line.startsWith("bind "))!)!;
    const uri = health.lines.find((line) => line.startsWith("monitor-uri "))!.split(" ")[1]!;
    const check = lb.healthcheck!.test.join(" ");
    expect(check).toContain(`/dev/tcp/127.0.0.1/${port}`);
    expect(check).toContain(`GET ${uri} `);
    expect(lb.volumes).toEqual(["./deploy/haproxy/haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro"]);
  });
});

/** A stand-in platform: health, an SSE stream the test paces, its request headers, a WebSocket echo. */
describe("the Kubernetes ingress", () => {
  it("keeps the load balancer's settings: no buffering, HAProxy's timeouts, in front of the platform's Service at PUBLIC_URL's host", async () => {
    const { sections } = await loadHaproxyConfig();
    const limits = timeouts(section(sections, "defaults"));
    const [ingress] = (await loadKubernetes(["ingress.yaml"])).map((entry) => Ingress.parse(entry.document));
    const annotations = ingress!.metadata.annotations;
    expect(annotations["nginx.ingress.kubernetes.io/proxy-buffering"]).toBe("off");
    expect(Number(annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"]) * 1_000).toBe(limits.server);
    expect(Number(annotations["nginx.ingress.kubernetes.io/proxy-send-timeout"]) * 1_000).toBe(limits.client);
    const { platform } = await loadDeployments();
    const publicUrl = new URL(platform.spec.template.spec.containers[0]!.env.find((entry) => entry.name === "PUBLIC_URL")!.value!);
    const [rule] = ingress!.spec.rules;
    expect(rule!.host).toBe(publicUrl.hostname);
    expect(ingress!.spec.tls.flatMap((entry) => entry.hosts)).toContain(publicUrl.hostname);
    const services = (await loadKubernetes(["platform.yaml"])).filter((entry) => entry.kind === "Service").map((entry) => Service.parse(entry.document));
    const backend = rule!.http.paths[0]!.backend.service;
    const service = services.find((candidate) => candidate.metadata.name === backend.name);
    expect(service?.spec.ports.map((port) => port.port)).toContain(backend.port.number);
  });
});

const Ingress = z.object({
  metadata: z.object({ annotations: z.record(z.string(), z.string()) }),
  spec: z.object({
    tls: z.array(z.object({ hosts: z.array(z.string()) })),
    rules: z.array(z.object({ host: z.string(), http: z.object({ paths: z.array(z.object({ backend: z.object({ service: z.object({ name: z.string(), port: z.object({ number: z.number() }) }) }) })) }) })),
  }),
});
const Service = z.object({ metadata: z.object({ name: z.string() }), spec: z.object({ ports: z.array(z.object({ port: z.number() })) }) });

function startServer(name: string, releases: Map<string, () => void>) {
  const sockets = new WebSocketServer({ noServer: true });
  const server = http.createServer((request, response) => {
    const url = new URL(request.url ?? "/", "http://localhost");
    if (url.pathname === "/api/health") return void response.writeHead(200, { "x-server": name }).end("ok");
    if (url.pathname === "/api/headers") return void response.writeHead(200, { "content-type": "application/json", "x-server": name }).end(JSON.stringify(request.headers));
    if (url.pathname === "/api/stream") {
      // Event one, then nothing until the test has seen it: a proxy that buffers never shows it.
      response.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
      response.write("id: 1\ndata: one\n\n");
      releases.set(url.searchParams.get("stream")!, () => response.end("id: 2\ndata: two\n\n"));
      return;
    }
    response.writeHead(404).end();
  });
  server.on("upgrade", (request, socket, head) => sockets.handleUpgrade(request, socket, head, (ws) => ws.on("message", (data) => ws.send(`${name}:${(data as Buffer).toString("utf8")}`))));
  return {
    name,
    server,
    async listen(port: number) {
      await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
    },
    async stop() {
      for (const client of sockets.clients) client.terminate();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Polls until `check` holds (HAProxy's health checks run on their own clock), or fails with `what`. */
async function until(what: () => string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe.skipIf(!HAPROXY)("HAProxy with this configuration", () => {
  const releases = new Map<string, () => void>();
  const backends = [startServer("platform-1", releases), startServer("platform-2", releases)];
  let haproxy: ChildProcess | undefined;
  let directory = "";
  let front = 0;
  let healthPort = 0;
  let stderr = "";

  beforeAll(async () => {
    const { text } = await loadHaproxyConfig();
    [front, healthPort] = [await freePort(), await freePort()];
    const ports = await Promise.all(backends.map(() => freePort()));
    await Promise.all(backends.map((backend, index) => backend.listen(ports[index]!)));
    // The file as it is, with compose's addresses replaced by this machine's loopback ports.
    let local = text.replace(/^(\s*bind) :8080$/m, `$1 127.0.0.1:${front}`).replace(/^(\s*bind) 127\.0\.0\.1:8404$/m, `$1 127.0.0.1:${healthPort}`);
    backends.forEach((backend, index) => (local = local.replace(new RegExp(`^(\\s*server ${backend.name}) ${backend.name}:3000$`, "m"), `$1 127.0.0.1:${ports[index]}`)));
    expect(local).not.toMatch(/platform-\d:3000|:8080|:8404/);
    directory = await mkdtemp(path.join(os.tmpdir(), "workforce-haproxy-"));
    await writeFile(path.join(directory, "haproxy.cfg"), local);
    haproxy = spawn(HAPROXY!, ["-db", "-f", path.join(directory, "haproxy.cfg")], { stdio: ["ignore", "ignore", "pipe"] });
    haproxy.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    await until(() => `HAProxy to answer on ${front} (its stderr: ${stderr})`, async () => (await fetch(`http://127.0.0.1:${front}/api/health`)).ok);
  });

  afterAll(async () => {
    haproxy?.kill("SIGTERM");
    await Promise.all(backends.map((backend) => backend.stop().catch(() => undefined)));
    if (directory) await rm(directory, { recursive: true, force: true });
  });

  it("accepts the file unchanged (only compose's names do not resolve here), on the release line of compose's image", async () => {
    const check = spawnSync(HAPROXY!, ["-c", "-f", path.join(repoRoot, "deploy/haproxy/haproxy.cfg")], { encoding: "utf8" });
    expect(check.status, check.stderr).toBe(0);
    const warnings = check.stderr.split("\n").filter((line) => line.includes("[WARNING]"));
    for (const warning of warnings) expect(warning).toMatch(/could not resolve address 'platform-\d'/);
    const version = /version (\d+\.\d+)\./.exec(spawnSync(HAPROXY!, ["-v"], { encoding: "utf8" }).stdout)?.[1];
    const image = (await loadCompose()).services.lb!.image;
    expect(image).toMatch(new RegExp(`^haproxy:${version!.replace(".", "\\.")}\\.\\d+`));
  });

  it("passes each SSE event through as it is written, not when the stream ends", async () => {
    const response = await fetch(`http://127.0.0.1:${front}/api/stream?stream=a`);
    expect(response.headers.get("content-type")).toBe("text/event-stream");
    expect(response.headers.get("content-encoding")).toBeNull();
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let received = "";
    const firstEvent = (async () => {
      while (!received.includes("data: one\n\n")) {
        const chunk = await reader.read();
        if (chunk.done) throw new Error(`the stream ended before event one: ${JSON.stringify(received)}`);
        received += chunk.value;
      }
    })();
    // The server holds event two back until event one is here: a buffering proxy shows neither.
    let timer: NodeJS.Timeout | undefined;
    const held = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`event one held back by the proxy (received so far: ${JSON.stringify(received)})`)), 10_000)));
    await Promise.race([firstEvent, held]).finally(() => clearTimeout(timer));
    expect(received).not.toContain("two");
    releases.get("a")!();
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) received += chunk.value;
    expect(received).toBe("id: 1\ndata: one\n\nid: 2\ndata: two\n\n");
  });

  it("upgrades a WebSocket and carries its messages both ways", async () => {
    const socket = new WebSocket(`ws://127.0.0.1:${front}/api/socket`);
    const reply = await new Promise<string>((resolve, reject) => {
      socket.on("open", () => socket.send("hello"));
      socket.on("message", (data) => resolve((data as Buffer).toString("utf8")));
      socket.on("error", reject);
    });
    socket.close();
    expect(reply).toMatch(/^platform-\d:hello$/);
  });

  it("tells the platform the client's address in X-Forwarded-For", async () => {
    const headers = (await (await fetch(`http://127.0.0.1:${front}/api/headers`)).json()) as Record<string, string>;
    expect(headers["x-forwarded-for"]).toBe("127.0.0.1");
  });

  it("sends every request to the platform still running when the other stops, and reports itself down when none runs", async () => {
    const healthCheck = (await loadCompose()).services.lb!.healthcheck!.test;
    // compose's own health check command, pointed at this HAProxy's health port.
    const healthy = () => spawnSync(healthCheck[1]!, healthCheck.slice(2).map((word) => word.replace("/127.0.0.1/8404", `/127.0.0.1/${healthPort}`))).status === 0;
    expect(healthy()).toBe(true);
    await backends[0]!.stop();
    const answeredBy = await Promise.all(Array.from({ length: 8 }, async () => (await fetch(`http://127.0.0.1:${front}/api/health`)).headers.get("x-server")));
    expect(answeredBy).toEqual(Array(8).fill("platform-2"));
    expect(healthy()).toBe(true);
    await backends[1]!.stop();
    await until(() => "the health check to fail with no platform left", async () => !healthy());
  });
});
