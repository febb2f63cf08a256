/**
 * There is no container engine here, so the deployment files are checked for what breaks
 * deployments in practice: the guide's "both services MUST use the same TENANT_DATA_DIR", one
 * shared volume, a shared hook token, health checks on the real routes, compose and Kubernetes
 * in step (environment, ports, images, commands), each service's own config accepting what the
 * files give it, and no secrets committed. Hardening is in hardening.test.ts.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { loadConfig as loadGatewayConfig } from "../gateway/src/config";
import { loadConfig } from "../platform/src/config";
import { DOT_ENV, environmentOf, loadCompose, loadDeployments, readRepoFile, repoRoot, type ComposeService, type Container } from "./manifests";

const mountsOf = (service: ComposeService) => service.volumes.map((volume) => (typeof volume === "string" ? volume : `${volume.source}:${volume.target}`));
const envOf = (container: Container) => Object.fromEntries(container.env.map((entry) => [entry.name, entry]));

/** Set in Kubernetes only, and why compose has no need of it. */
const KUBERNETES_ONLY: Record<string, string[]> = {
  platform: [],
  gateway: ["POD_IP"], // the downward API's pod address, which GATEWAY_ADVERTISE_URL is made of; compose names each gateway instead
};

/** Different in each process by design (one gateway's own address): compared in cluster.test.ts instead. */
const PER_PROCESS = ["GATEWAY_ADVERTISE_URL"];

/**
 * Kubernetes runs the cluster (several gateways and platforms on Redis), so it is compared with
 * compose's cluster profile, whose services are the single-node ones plus what a cluster changes.
 */
const CLUSTER_SERVICE = { gateway: "gateway-1", platform: "platform-1" } as const;

describe("compose.yaml", () => {
  it("gives gateway and platform the same TENANT_DATA_DIR on one shared volume, and the same token", async () => {
    const { gateway, platform } = (await loadCompose()).services;
    const gatewayEnv = gateway!.environment;
    const platformEnv = platform!.environment;
    expect(gatewayEnv.TENANT_DATA_DIR).toBe(platformEnv.TENANT_DATA_DIR);
    expect(path.isAbsolute(gatewayEnv.TENANT_DATA_DIR!)).toBe(true);
    expect(gatewayEnv.CLAWDBOT_HOOK_TOKEN).toBe(platformEnv.CLAWDBOT_HOOK_TOKEN);
    expect(gatewayEnv.CLAWDBOT_HOOK_TOKEN).toMatch(/^\$\{CLAWDBOT_HOOK_TOKEN:\?/); // required, never a default
    expect(mountsOf(gateway!)).toEqual([`tenant-data:${gatewayEnv.TENANT_DATA_DIR}`]);
    expect(mountsOf(platform!)).toEqual(mountsOf(gateway!));
    expect(new URL(platformEnv.CLAWDBOT_GATEWAY_URL!).port).toBe("18789");
    expect(gateway!.command).toEqual(expect.arrayContaining(["run", "--port", "18789", "--bind", "0.0.0.0"]));
    expect(JSON.stringify(platform!.healthcheck?.test)).toContain("/api/health");
    expect(JSON.stringify(gateway!.healthcheck?.test)).toContain("/readyz");
  });

  it("sets REDIS_URL on the gateway, which relays runs, with the password Redis demands", async () => {
    const { gateway, platform, redis } = (await loadCompose()).services;
    // One gateway and one platform: the platform has nobody to route between (the cluster
    // profile's platforms read the gateways' membership from the same Redis: cluster.test.ts).
    expect(platform!.environment.REDIS_URL).toBeUndefined();
    expect(gateway!.environment.REDIS_URL).toMatch(/^redis:\/\/default:\$\{REDIS_PASSWORD:\?[^}]+\}@redis:6379$/);
    const config = loadGatewayConfig(environmentOf(gateway!), { port: "18789", bind: "0.0.0.0" }, "/home/nobody");
    expect(new URL(config.redisUrl!).password).toBe(DOT_ENV.REDIS_PASSWORD);
    // Redis is given the same variable, and the gateway waits for it.
    expect(redis!.environment.REDIS_PASSWORD).toBe(gateway!.environment.REDIS_URL!.match(/\$\{REDIS_PASSWORD:\?[^}]+\}/)![0]);
    expect(JSON.stringify(redis!.command)).toContain("requirepass");
    expect(gateway!.depends_on?.redis?.condition).toBe("service_healthy");
  });

  it("connects the platform as a login that is no superuser, and migrates as the tables' owner", async () => {
    const { platform, postgres } = (await loadCompose()).services;
    const raw = platform!.environment;
    expect(raw.DATABASE_URL).toMatch(/\$\{WORKFORCE_DB_PASSWORD:\?/);
    expect(raw.DATABASE_MIGRATION_URL).toMatch(/\$\{WORKFORCE_DB_OWNER_PASSWORD:\?/);
    const env = environmentOf(platform!);
    const login = new URL(env.DATABASE_URL!);
    const owner = new URL(env.DATABASE_MIGRATION_URL!);
    const superuser = postgres!.environment.POSTGRES_USER;
    expect([login.username, owner.username]).not.toContain(superuser);
    expect(login.username).not.toBe(owner.username);
    expect(login.password).toBe(DOT_ENV.WORKFORCE_DB_PASSWORD);
    expect(owner.password).toBe(DOT_ENV.WORKFORCE_DB_OWNER_PASSWORD);
    // The init script that makes those roles runs on the Postgres container's first start, with
    // the same names (its defaults) and the same passwords.
    const initScript = await readRepoFile("deploy/postgres/init-workforce-roles.sh");
    expect(initScript).toContain(`\${WORKFORCE_DB_OWNER:-${owner.username}}`);
    expect(initScript).toContain(`\${WORKFORCE_DB_USER:-${login.username}}`);
    expect(postgres!.environment.WORKFORCE_DB_PASSWORD).toMatch(/^\$\{WORKFORCE_DB_PASSWORD:\?/);
    expect(postgres!.environment.WORKFORCE_DB_OWNER_PASSWORD).toMatch(/^\$\{WORKFORCE_DB_OWNER_PASSWORD:\?/);
    expect(mountsOf(postgres!)).toEqual(
      expect.arrayContaining([
        "./deploy/postgres/init-workforce-roles.sh:/docker-entrypoint-initdb.d/10-workforce-roles.sh:ro",
        "./deploy/postgres/workforce-roles.sql:/workforce/workforce-roles.sql:ro",
      ]),
    );
    expect(login.pathname).toBe(`/${postgres!.environment.POSTGRES_DB}`);
    const config = loadConfig(env, "/home/nobody");
    expect(config.databaseUrl).toBe(env.DATABASE_URL);
    expect(config.databaseMigrationUrl).toBe(env.DATABASE_MIGRATION_URL);
  });

  it("commits no secret: every token, key and password comes from .env, required unless it is optional", async () => {
    const compose = await loadCompose();
    for (const [name, service] of Object.entries(compose.services)) {
      for (const [variable, value] of Object.entries(service.environment)) {
        if (!/TOKEN|KEY|PASSWORD|SECRET|AUTH/.test(variable)) continue;
        expect(value, `${name}.${variable}`).toMatch(/^\$\{\w+:[?-]/);
      }
      // Passwords inside URLs too.
      for (const value of Object.values(service.environment).filter((text) => /^\w+:\/\//.test(text))) {
        const password = /^\w+:\/\/[^:/@]*:([^@]*)@/.exec(value)?.[1];
        if (password !== undefined) expect(password, `${name}: ${value}`).toMatch(/^\$\{\w+:\?[^}]+\}$/);
      }
    }
  });
});

describe("the platform's environment in compose and Kubernetes", () => {
  it("listens beyond loopback with a public URL and a shared master key, and the platform's own config accepts it", async () => {
    const { platform } = (await loadCompose()).services;
    const raw = platform!.environment;
    expect(raw.HOST).toBe("0.0.0.0");
    expect(raw.WORKFORCE_SECRET_KEY).toMatch(/^\$\{WORKFORCE_SECRET_KEY:\?/); // required: a key file in a container would not survive it
    const env = environmentOf(platform!);
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

    const kubeEnv = envOf((await loadDeployments()).platform.spec.template.spec.containers[0]!);
    expect(kubeEnv.HOST?.value).toBe("0.0.0.0");
    expect(kubeEnv.PUBLIC_URL?.value).toMatch(/^https:\/\//);
    expect(kubeEnv.WORKFORCE_SECRET_KEY?.valueFrom?.secretKeyRef?.key).toBe("WORKFORCE_SECRET_KEY");
  });
});

describe("compose and Kubernetes in step", () => {
  it("set the same variables on each service as compose's cluster, literal values equal, secrets from the Secret", async () => {
    const compose = (await loadCompose()).services;
    const kubernetes = await loadDeployments();
    for (const service of ["gateway", "platform"] as const) {
      const composeEnv = compose[CLUSTER_SERVICE[service]]!.environment;
      const kubeEnv = envOf(kubernetes[service].spec.template.spec.containers[0]!);
      expect(Object.keys(kubeEnv).filter((name) => !KUBERNETES_ONLY[service]!.includes(name)).sort(), service).toEqual(Object.keys(composeEnv).sort());
      for (const [name, value] of Object.entries(composeEnv)) {
        if (PER_PROCESS.includes(name)) continue;
        const entry = kubeEnv[name]!;
        if (value.includes("${")) {
          // From .env in compose, from the Secret in Kubernetes; a default (PUBLIC_URL, WORKFORCE_SIGNUP) is set literally.
          if (/^\$\{\w+:-[^}]+\}$/.test(value) && entry.value !== undefined) continue;
          expect(entry.valueFrom?.secretKeyRef?.name, `${service}.${name}`).toBe("workforce");
        } else {
          expect(entry.value, `${service}.${name}`).toBe(value);
        }
      }
    }
  });

  it("listen on the same ports and run the same pinned image", async () => {
    const compose = (await loadCompose()).services;
    const kubernetes = await loadDeployments();
    const images = new Set<string>();
    for (const service of ["gateway", "platform"] as const) {
      const container = kubernetes[service].spec.template.spec.containers[0]!;
      const env = environmentOf(compose[service]!);
      const port = service === "gateway" ? Number(container.command[container.command.indexOf("--port") + 1]) : Number(env.PORT);
      expect(container.ports.map((entry) => entry.containerPort)).toEqual([port]);
      expect(compose[service]!.command).toEqual(container.command);
      for (const probe of [container.livenessProbe, container.readinessProbe, container.startupProbe]) expect(probe?.httpGet?.port, service).toBe(port);
      images.add(container.image).add(compose[service]!.image);
    }
    expect(images.size).toBe(1);
    const [image] = [...images];
    const version = (JSON.parse(await readRepoFile("package.json")) as { version: string }).version;
    expect(image).toBe(`workforce:${version}`);
  });

  it("mount one ReadWriteMany claim at the same TENANT_DATA_DIR in both deployments, with secrets from a Secret", async () => {
    const pvc = parse(await readRepoFile("deploy/kubernetes/tenant-data.yaml"));
    expect(pvc.spec.accessModes).toContain("ReadWriteMany");
    const { gateway, platform } = await loadDeployments();
    const seen = [gateway, platform].map((deployment) => {
      const spec = deployment.spec.template.spec;
      const container = spec.containers[0]!;
      const env = envOf(container);
      const mount = container.volumeMounts.find((volumeMount) => volumeMount.name === "tenant-data");
      expect(spec.volumes.find((volume) => volume.name === "tenant-data")?.persistentVolumeClaim?.claimName).toBe(pvc.metadata.name);
      expect(env.CLAWDBOT_HOOK_TOKEN?.valueFrom?.secretKeyRef?.name).toBe("workforce");
      expect(mount?.mountPath).toBe(env.TENANT_DATA_DIR?.value);
      return env.TENANT_DATA_DIR?.value;
    });
    expect(seen[0]).toBe(seen[1]);
  });

  it("commit only an example Secret, with every key the deployments read", async () => {
    const secret = parse(await readRepoFile("deploy/kubernetes/secrets.example.yaml"));
    expect(secret.stringData.ANTHROPIC_API_KEY).toBe("");
    expect(secret.stringData.CLAWDBOT_HOOK_TOKEN).toMatch(/generate/);
    const { gateway, platform } = await loadDeployments();
    const keys = [gateway, platform].flatMap((deployment) => deployment.spec.template.spec.containers[0]!.env.flatMap((entry) => (entry.valueFrom?.secretKeyRef ? [entry.valueFrom.secretKeyRef.key] : [])));
    for (const key of keys) expect(Object.keys(secret.stringData), key).toContain(key);
    expect(await readRepoFile(".gitignore")).toContain("deploy/kubernetes/secrets.yaml");
  });
});

describe("metrics in the deployments", () => {
  it("serve /metrics on both services: METRICS_TOKEN from .env and the Secret, accepted by each service, announced to Prometheus on the service's port", async () => {
    const compose = (await loadCompose()).services;
    const kubernetes = await loadDeployments();
    // Required in compose, like every other secret: a deployment without it would serve no /metrics.
    for (const service of ["gateway", "platform"] as const) expect(compose[service]!.environment.METRICS_TOKEN, service).toMatch(/^\$\{METRICS_TOKEN:\?/);
    const gateway = loadGatewayConfig(environmentOf(compose.gateway!), { port: "18789", bind: "0.0.0.0" }, "/home/nobody");
    const platform = loadConfig(environmentOf(compose.platform!), "/home/nobody");
    expect([gateway.metrics.access.token, platform.metrics.token]).toEqual([DOT_ENV.METRICS_TOKEN, DOT_ENV.METRICS_TOKEN]);
    // On the public port, behind the token: no METRICS_PORT to keep apart.
    expect([gateway.metrics.access.port, platform.metrics.port]).toEqual([undefined, undefined]);

    // The example Prometheus configuration presents the token and scrapes those ports.
    const prometheus = parse(await readRepoFile("deploy/prometheus/prometheus.yml")) as { scrape_configs: { authorization?: { credentials_file?: string }; static_configs: { targets: string[] }[] }[] };
    const targets = prometheus.scrape_configs.flatMap((job) => {
      expect(job.authorization?.credentials_file).toBeDefined();
      return job.static_configs.flatMap((config) => config.targets);
    });
    expect(targets.sort()).toEqual(["gateway:18789", `platform:${environmentOf(compose.platform!).PORT}`]);

    for (const service of ["gateway", "platform"] as const) {
      const template = kubernetes[service].spec.template;
      const container = template.spec.containers[0]!;
      expect(envOf(container).METRICS_TOKEN?.valueFrom?.secretKeyRef, service).toEqual({ name: "workforce", key: "METRICS_TOKEN" });
      expect(template.metadata.annotations, service).toEqual({
        "prometheus.io/scrape": "true",
        "prometheus.io/port": String(container.ports[0]!.containerPort),
        "prometheus.io/path": "/metrics",
      });
    }
    const secret = parse(await readRepoFile("deploy/kubernetes/secrets.example.yaml")) as { stringData: Record<string, string> };
    expect(secret.stringData.METRICS_TOKEN).toMatch(/generate/);
  });
});

describe("service commands", () => {
  it("run the bundles the Dockerfile builds, the same in compose and Kubernetes", async () => {
    const compose = await loadCompose();
    const { gateway, platform } = await loadDeployments();
    const kubernetes = [gateway, platform].map((deployment) => deployment.spec.template.spec.containers[0]!.command);
    expect(kubernetes).toEqual([compose.services.gateway!.command, compose.services.platform!.command]);
    const dockerfile = await readRepoFile("Dockerfile");
    expect(dockerfile).toContain("npm run build");
    // `npm run build` (also run by `npm install`) writes these entry files.
    for (const command of kubernetes) {
      expect(command[0]).toBe("node");
      expect(command[1]).toMatch(/^(gateway|platform)\/dist\/[a-z]+\.js$/);
      expect(existsSync(path.join(repoRoot, command[1]!)), `${command[1]} is built by npm run build`).toBe(true);
    }
  });
});
