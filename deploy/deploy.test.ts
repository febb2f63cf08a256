/**
 * There is no container engine here, so the deployment files are checked for what breaks
 * deployments in practice: the guide's "both services MUST use the same TENANT_DATA_DIR", one
 * shared volume, a shared hook token, health checks on the real routes, and no secrets committed.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse, parseAllDocuments } from "yaml";
import { loadConfig } from "../platform/src/config";

const root = path.resolve(import.meta.dirname, "..");
const read = (file: string) => readFile(path.join(root, file), "utf8");

type Env = Record<string, string>;

describe("compose.yaml", () => {
  it("gives gateway and platform the same TENANT_DATA_DIR on one shared volume, and the same token", async () => {
    const compose = parse(await read("compose.yaml"));
    const { gateway, platform } = compose.services;
    const gatewayEnv = gateway.environment as Env;
    const platformEnv = platform.environment as Env;
    expect(gatewayEnv.TENANT_DATA_DIR).toBe(platformEnv.TENANT_DATA_DIR);
    expect(path.isAbsolute(gatewayEnv.TENANT_DATA_DIR!)).toBe(true);
    expect(gatewayEnv.CLAWDBOT_HOOK_TOKEN).toBe(platformEnv.CLAWDBOT_HOOK_TOKEN);
    expect(gatewayEnv.CLAWDBOT_HOOK_TOKEN).toMatch(/^\$\{CLAWDBOT_HOOK_TOKEN:\?/); // required, never a default
    const mounts = (service: { volumes: { source: string; target: string }[] }) => service.volumes.map((v) => `${v.source}:${v.target}`);
    expect(mounts(gateway)).toEqual([`tenant-data:${gatewayEnv.TENANT_DATA_DIR}`]);
    expect(mounts(platform)).toEqual(mounts(gateway));
    expect(new URL(platformEnv.CLAWDBOT_GATEWAY_URL!).port).toBe("18789");
    expect(gateway.command).toEqual(expect.arrayContaining(["run", "--port", "18789", "--bind", "0.0.0.0"]));
    expect(JSON.stringify(platform.healthcheck.test)).toContain("/api/health");
  });
});

describe("the platform's environment in compose and Kubernetes", () => {
  /** Fills compose's `${NAME:-default}` / `${NAME:?message}` the way `docker compose` would with `.env` values. */
  const substitute = (value: string, dotEnv: Env) =>
    value.replace(/\$\{(\w+)(?::([-?])([^}]*))?\}/g, (_match, name: string, kind: string | undefined, rest: string | undefined) => dotEnv[name] ?? (kind === "-" ? (rest ?? "") : ""));

  it("listens beyond loopback with a public URL and a shared master key, and the platform's own config accepts it", async () => {
    const compose = parse(await read("compose.yaml"));
    const raw = compose.services.platform.environment as Env;
    expect(raw.HOST).toBe("0.0.0.0");
    expect(raw.WORKFORCE_SECRET_KEY).toMatch(/^\$\{WORKFORCE_SECRET_KEY:\?/); // required: a key file in a container would not survive it
    const dotEnv = { CLAWDBOT_HOOK_TOKEN: "t".repeat(32), WORKFORCE_SECRET_KEY: Buffer.alloc(32, 7).toString("base64"), PUBLIC_URL: "https://workforce.example.com" };
    const env = Object.fromEntries(Object.entries(raw).map(([name, value]) => [name, substitute(String(value), dotEnv)]));
    const config = loadConfig(env, "/home/nobody");
    expect(config.loopbackOnly).toBe(false);
    expect(config.publicUrl).toBe("https://workforce.example.com");
    // The safe defaults of a public installation.
    expect(config.signup.mode).toBe("invite");
    expect(config.emailConfirmation).toBe("required");
    expect(config.defaultMonthlyTokens).toBe(1_000_000);
    expect(config.secretKey.source).toBe("env");
    // Without PUBLIC_URL the platform refuses to start rather than take links from Host headers.
    expect(() => loadConfig({ ...env, PUBLIC_URL: "" }, "/home/nobody")).toThrow(/PUBLIC_URL: is required when HOST=0\.0\.0\.0/);

    const platform = parseAllDocuments(await read("deploy/kubernetes/platform.yaml"))
      .map((document) => document.toJS())
      .find((document) => document.kind === "Deployment");
    const kubeEnv = Object.fromEntries(
      (platform.spec.template.spec.containers[0].env as { name: string; value?: string; valueFrom?: { secretKeyRef: { key: string } } }[]).map((entry) => [entry.name, entry]),
    );
    expect(kubeEnv.HOST?.value).toBe("0.0.0.0");
    expect(kubeEnv.PUBLIC_URL?.value).toMatch(/^https:\/\//);
    expect(kubeEnv.WORKFORCE_SECRET_KEY?.valueFrom?.secretKeyRef.key).toBe("WORKFORCE_SECRET_KEY");
  });
});

describe("kubernetes manifests", () => {
  it("mount one ReadWriteMany claim at the same TENANT_DATA_DIR in both deployments, with secrets from a Secret", async () => {
    const pvc = parse(await read("deploy/kubernetes/tenant-data.yaml"));
    expect(pvc.spec.accessModes).toContain("ReadWriteMany");
    const deployments = await Promise.all(
      ["gateway.yaml", "platform.yaml"].map(async (file) =>
        parseAllDocuments(await read(`deploy/kubernetes/${file}`))
          .map((document) => document.toJS())
          .find((document) => document.kind === "Deployment"),
      ),
    );
    const seen = deployments.map((deployment) => {
      const spec = deployment.spec.template.spec;
      const container = spec.containers[0];
      const env = Object.fromEntries(container.env.map((entry: { name: string; value?: string; valueFrom?: unknown }) => [entry.name, entry]));
      const mount = container.volumeMounts.find((volumeMount: { name: string }) => volumeMount.name === "tenant-data");
      expect(spec.volumes[0].persistentVolumeClaim.claimName).toBe(pvc.metadata.name);
      expect(env.CLAWDBOT_HOOK_TOKEN.valueFrom.secretKeyRef.name).toBe("workforce");
      expect(mount.mountPath).toBe(env.TENANT_DATA_DIR.value);
      return env.TENANT_DATA_DIR.value as string;
    });
    expect(seen[0]).toBe(seen[1]);
  });

  it("commits only an example Secret", async () => {
    const secret = parse(await read("deploy/kubernetes/secrets.example.yaml"));
    expect(secret.stringData.ANTHROPIC_API_KEY).toBe("");
    expect(secret.stringData.CLAWDBOT_HOOK_TOKEN).toMatch(/generate/);
  });
});

describe("service commands", () => {
  it("run the bundles the Dockerfile builds, the same in compose and Kubernetes", async () => {
    const compose = parse(await read("compose.yaml"));
    const manifests = await Promise.all(
      ["gateway.yaml", "platform.yaml"].map(async (file) =>
        parseAllDocuments(await read(`deploy/kubernetes/${file}`))
          .map((document) => document.toJS())
          .find((document) => document.kind === "Deployment"),
      ),
    );
    const kubernetes = manifests.map((deployment) => deployment.spec.template.spec.containers[0].command as string[]);
    expect(kubernetes).toEqual([compose.services.gateway.command, compose.services.platform.command]);
    const dockerfile = await read("Dockerfile");
    expect(dockerfile).toContain("npm run build");
    // `npm run build` (also run by `npm install`) writes these entry files.
    for (const command of kubernetes) {
      expect(command[0]).toBe("node");
      expect(command[1]).toMatch(/^(gateway|platform)\/dist\/[a-z]+\.js$/);
      expect(existsSync(path.join(root, command[1]!)), `${command[1]} is built by npm run build`).toBe(true);
    }
  });
});
