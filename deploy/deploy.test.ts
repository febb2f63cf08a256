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
