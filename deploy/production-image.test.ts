/**
 * The image's final stage, assembled outside Docker from the Dockerfile's own instructions: the
 * production-dependencies stage's `npm ci` in a temporary directory, then the runtime stage's
 * copies of the built output and its command links. Both services then start from there against
 * each other: proof that the bundles run without dev dependencies, and that the commands the
 * image puts on PATH run. (No container engine here: the base image itself is not exercised.)
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { cp, mkdir, mkdtemp, readdir, rm } from "node:fs/promises";
import { existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dockerfileStages, readRepoFile, repoRoot } from "./manifests";

const run = promisify(execFile);
const HOOK_TOKEN = "production-image-test-token-0123456789";

let tmp: string;
let app: string;
let binDir: string;
let imageEnv: Record<string, string>;
const children: ChildProcess[] = [];

/** `/app/…` in the Dockerfile is `app` here, `/data/…` a folder of tmp. */
const local = (dockerPath: string) => dockerPath.replace(/^\/app(?=\/|$)/, app).replace(/^\/data(?=\/|$)/, path.join(tmp, "data"));

beforeAll(async () => {
  // The build stage: what `npm run build:web && npm run build` leaves in the checkout.
  await run("npm", ["run", "build", "--silent"], { cwd: repoRoot, maxBuffer: 16 * 1024 * 1024 });
  if (!existsSync(path.join(repoRoot, "platform/web/dist/index.html"))) await run("npm", ["run", "build:web", "--silent"], { cwd: repoRoot, maxBuffer: 16 * 1024 * 1024 });

  tmp = await mkdtemp(path.join(os.tmpdir(), "workforce-image-"));
  app = path.join(tmp, "app");
  binDir = path.join(tmp, "usr-local-bin");
  await mkdir(binDir, { recursive: true });
  const stages = dockerfileStages(await readRepoFile("Dockerfile"));

  // production-dependencies: its COPYs from the context, then its `npm ci` (without the cache
  // clean, which would empty this machine's shared npm cache; --prefer-offline uses it instead).
  for (const line of stages.get("production-dependencies")!.lines) {
    const [instruction, ...words] = line.split(/\s+/);
    if (instruction === "COPY") {
      const destination = path.join(app, words.at(-1)!);
      for (const source of words.slice(0, -1)) await cp(path.join(repoRoot, source), path.join(destination.endsWith("/") || words.length > 2 ? destination : path.dirname(destination), path.basename(source)));
    } else if (instruction === "RUN") {
      const install = line.slice("RUN ".length).split("&&")[0]!.trim().split(/\s+/);
      expect(install.slice(0, 3)).toEqual(["npm", "ci", "--omit=dev"]);
      await run(install[0]!, [...install.slice(1), "--prefer-offline"], { cwd: app, maxBuffer: 16 * 1024 * 1024 });
    }
  }

  // runtime: the build's output where the Dockerfile puts it, and its ENV.
  imageEnv = {};
  for (const line of stages.get("runtime")!.lines) {
    const copy = /^COPY --from=build (\/app\/\S+) (\S+)$/.exec(line);
    if (copy) {
      const source = path.join(repoRoot, copy[1]!.slice("/app/".length));
      const destination = path.join(app, copy[2]!);
      if (existsSync(source)) await cp(source, destination, { recursive: true });
      else await mkdir(destination, { recursive: true }); // bin/: made by the build stage when the checkout has none
    }
    const env = /^ENV (.+)$/.exec(line);
    if (env) for (const [, name, value] of env[1]!.matchAll(/(\w+)=(\S+)/g)) imageEnv[name!] = local(value!);
  }
  const link = stages.get("runtime")!.lines.find((line) => line.startsWith("RUN") && line.includes("link-bins.mjs"));
  expect(link).toContain("node deploy/docker/link-bins.mjs /app /usr/local/bin");
  await run("node", [path.join(app, "deploy/docker/link-bins.mjs"), app, binDir]);
}, 900_000);

afterAll(async () => {
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once("exit", () => resolve());
          child.kill("SIGTERM");
        }),
    ),
  );
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

interface Service {
  child: ChildProcess;
  /** Everything it printed so far. */
  output: () => string;
}

/** A service as the image runs it: the image's ENV, a HOME of its own, nothing of this shell's environment. */
function start(command: string[], env: Record<string, string>): Service {
  const child = spawn(command[0]!, command.slice(1), {
    cwd: app,
    env: { PATH: `${binDir}:${process.env.PATH}`, HOME: path.join(tmp, "home"), ...imageEnv, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  children.push(child);
  return { child, output: () => output };
}

const exited = (service: Service) => service.child.exitCode !== null || service.child.signalCode !== null;

/** A service that died: its exit and what it printed, so a failure here says why. */
function died(service: Service, waitingFor: string): Error {
  return new Error(`the service exited with ${service.child.exitCode ?? service.child.signalCode} ${waitingFor}:\n${service.output()}`);
}

/**
 * The URL a service started on port 0 listens on, from its start-up line (`listening on …`): the
 * kernel picks a port nobody holds, where a port probed free beforehand may be taken by a test
 * running beside this one before the service binds it.
 */
async function listeningUrl(service: Service, deadline = Date.now() + 180_000): Promise<string> {
  for (;;) {
    const url = /listening on (http:\/\/[^\s"·]+)/.exec(service.output())?.[1];
    if (url) return url.replace(/\/$/, "");
    if (exited(service)) throw died(service, "while starting");
    if (Date.now() > deadline) throw new Error(`no "listening on" line within the start-up time:\n${service.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Polls until the URL answers 200 (start-up: migrations, template copy) or the process died. */
async function answered(url: string, service: Service, deadline = Date.now() + 180_000): Promise<Response> {
  for (;;) {
    if (exited(service)) throw died(service, `before ${url} answered`);
    const response = await fetch(url).catch(() => undefined);
    if (response?.status === 200) return response;
    if (Date.now() > deadline) throw new Error(`${url} did not answer 200 within the start-up time (last: ${response?.status ?? "no answer"}):\n${service.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

describe("the image's final stage, assembled from the Dockerfile", () => {
  it("carries the run-time dependencies and none of the dev dependencies", async () => {
    const installed = async (name: string) => existsSync(path.join(app, "node_modules", name));
    for (const runtime of ["@electric-sql/pglite", "@node-rs/argon2", "pg", "hono", "tsx"]) expect(await installed(runtime), runtime).toBe(true);
    for (const development of ["vitest", "typescript", "eslint", "vite", "react", "react-dom", "playwright-core", "@supabase/supabase-js", "smtp-server", "mailparser", "fast-check", "openai", "yaml", "@types/node"]) {
      expect(await installed(development), development).toBe(false);
    }
    // No sources the services do not run: the web app's, the tests' fakes, the scripts.
    expect(existsSync(path.join(app, "platform/web/src"))).toBe(false);
    expect(existsSync(path.join(app, "e2e"))).toBe(false);
    expect(await readdir(path.join(app, "platform/web/dist"))).toContain("index.html");
  });

  it("puts the packages' commands on PATH, and they run with production dependencies only", async () => {
    const linked = await readdir(binDir);
    expect(linked).toContain("gateway");
    for (const command of linked) {
      const { stdout } = await run(path.join(binDir, command), ["--help"], { cwd: app, env: { PATH: process.env.PATH, HOME: path.join(tmp, "home"), ...imageEnv } });
      expect(stdout, command).toMatch(/usage/i);
    }
  }, 120_000);

  it("starts both services against each other: the web app, health, readiness and the image's HEALTHCHECK answer", async () => {
    const dockerfile = await readRepoFile("Dockerfile");
    const gateway = start(["node", "gateway/dist/cli.js", "run", "--port", "0", "--bind", "127.0.0.1"], { CLAWDBOT_HOOK_TOKEN: HOOK_TOKEN });
    const gatewayUrl = await listeningUrl(gateway);
    await answered(`${gatewayUrl}/readyz`, gateway);
    const platform = start(["node", "platform/dist/main.js"], {
      PORT: "0",
      HOST: "127.0.0.1",
      CLAWDBOT_GATEWAY_URL: gatewayUrl,
      CLAWDBOT_HOOK_TOKEN: HOOK_TOKEN,
      PGLITE_DATA_DIR: path.join(tmp, "db"),
    });
    const platformUrl = await listeningUrl(platform);
    const health = await answered(`${platformUrl}/api/health`, platform);
    expect(await health.json()).toMatchObject({ status: "ok", database: { ok: true }, gateway: { ok: true }, dataDir: { ok: true, path: imageEnv.TENANT_DATA_DIR } });

    const page = await fetch(`${platformUrl}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toContain("text/html");
    expect(await page.text()).toMatch(/<script[^>]+src="\/assets\//);
    for (const url of [gatewayUrl, platformUrl]) expect((await fetch(`${url}/livez`)).status).toBe(200);

    // The HEALTHCHECK's own command, as Docker runs it in the platform's container.
    const healthcheck = /^HEALTHCHECK .*CMD (\[.+\])$/m.exec(dockerfile.replace(/\\\n\s*/g, " "))?.[1];
    const [node, ...args] = JSON.parse(healthcheck!) as string[];
    await expect(run(node!, args, { env: { PATH: process.env.PATH, PORT: new URL(platformUrl).port } })).resolves.toBeDefined();
  }, 300_000);
});
