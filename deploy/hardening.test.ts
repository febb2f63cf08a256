/**
 * The hardening of every container the deployment files describe, asserted on the parsed files:
 * non-root, read-only root file system with writable scratch space, no capabilities, no privilege
 * escalation, seccomp, resources, probes that never restart a busy gateway, NetworkPolicies that
 * let only the platform and the other gateways reach a gateway and only those two reach Redis,
 * disruption budgets, pinned images, and an image
 * built in stages whose final stage carries no dev dependencies.
 */
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { dockerfileStages, loadCompose, loadDeployments, loadKubernetes, loadPodSpecs, readRepoFile, type Deployment } from "./manifests";

const KUBERNETES_FILES = ["gateway.yaml", "platform.yaml", "tenant-data.yaml", "backup-cronjob.yaml", "redis.yaml"];

/** A NetworkPolicy of ours: ingress rules only, from pod selectors only (this namespace; no ipBlock, no namespaceSelector). */
const NetworkPolicy = z.object({
  spec: z.object({
    podSelector: z.object({ matchLabels: z.record(z.string(), z.string()) }),
    policyTypes: z.array(z.string()),
    ingress: z.array(
      z
        .object({
          from: z.array(z.object({ podSelector: z.object({ matchLabels: z.record(z.string(), z.string()) }).strict() }).strict()),
          ports: z.array(z.object({ protocol: z.string(), port: z.number() })),
        })
        .strict(),
    ),
  }),
});

const matches = (selector: Record<string, string>, labels: Record<string, string>) => Object.entries(selector).every(([key, value]) => labels[key] === value);

/** `250m` → 0.25, `2` → 2; `256Mi` → bytes. Enough of Kubernetes' quantities to compare requests with limits. */
function quantity(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(m|Ki|Mi|Gi)?$/.exec(text);
  if (!match) throw new Error(`unreadable quantity ${text}`);
  const scale = { m: 0.001, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3 }[match[2] ?? ""] ?? 1;
  return Number(match[1]) * scale;
}

/** An image reference with an explicit version tag (not latest, not a bare major). */
function expectPinned(image: string, what: string): void {
  const tag = image.split(":")[1];
  expect(tag, `${what}: ${image} has no tag`).toBeDefined();
  expect(tag, `${what}: ${image}`).not.toBe("latest");
  expect(tag, `${what}: ${image} names a version`).toMatch(/^\d+\.\d+(\.\d+)?(-[a-z0-9.-]+)?$/);
}

describe("compose.yaml hardening", () => {
  it("runs every container non-root, read-only, without capabilities or privilege escalation, with a health check", async () => {
    const compose = await loadCompose();
    const dockerfile = await readRepoFile("Dockerfile");
    const imageUser = [...dockerfile.matchAll(/^USER\s+(\S+)/gm)].at(-1)?.[1];
    for (const [name, service] of Object.entries(compose.services)) {
      expect(service.read_only, name).toBe(true);
      expect(service.cap_drop, name).toEqual(["ALL"]);
      expect(service.security_opt, name).toContain("no-new-privileges:true");
      expect(service.tmpfs, `${name}: scratch space on a read-only root`).toContain("/tmp");
      expect(service.healthcheck?.test.length, name).toBeGreaterThan(0);
      const user = service.build ? imageUser : service.user;
      expect(user, `${name} runs as`).toBeDefined();
      expect(["root", "0", "0:0"], name).not.toContain(user);
      if (!service.build) expectPinned(service.image, name);
    }
  });
});

describe("Kubernetes hardening", () => {
  it("gives every container of every workload the restricted security context, resources and a writable /tmp", async () => {
    const workloads = await loadPodSpecs();
    expect(workloads.map((workload) => workload.name)).toEqual(expect.arrayContaining(["gateway.yaml: Deployment gateway", "platform.yaml: Deployment platform-api"]));
    for (const { name, pod } of workloads) {
      expect(pod.securityContext?.runAsNonRoot, name).toBe(true);
      expect(pod.securityContext?.runAsUser, name).not.toBe(0);
      expect(pod.securityContext?.seccompProfile?.type, name).toBe("RuntimeDefault");
      expect(pod.automountServiceAccountToken, name).toBe(false);
      for (const container of [...(pod.initContainers ?? []), ...pod.containers]) {
        const what = `${name}/${container.name}`;
        const context = container.securityContext;
        expect(context?.runAsNonRoot, what).toBe(true);
        expect(context?.allowPrivilegeEscalation, what).toBe(false);
        expect(context?.readOnlyRootFilesystem, what).toBe(true);
        expect(context?.capabilities?.drop, what).toEqual(["ALL"]);
        expect(context?.capabilities?.add ?? [], what).toEqual([]);
        expect(context?.seccompProfile?.type ?? pod.securityContext?.seccompProfile?.type, what).toBe("RuntimeDefault");
        const resources = container.resources;
        expect(resources, `${what} has requests and limits`).toBeDefined();
        for (const kind of ["cpu", "memory"] as const) expect(quantity(resources!.requests[kind]), `${what} ${kind}`).toBeLessThanOrEqual(quantity(resources!.limits[kind]));
        expectPinned(container.image, what);
        const tmp = container.volumeMounts.find((mount) => mount.mountPath === "/tmp");
        expect(pod.volumes.find((volume) => volume.name === tmp?.name)?.emptyDir, `${what}: /tmp is an emptyDir`).toBeDefined();
      }
    }
  });

  it("probe liveness apart from readiness, so a busy gateway is taken out of rotation, not restarted", async () => {
    const { gateway, platform } = await loadDeployments();
    const expected = { gateway: { live: "/livez", ready: "/readyz" }, platform: { live: "/livez", ready: "/api/health" } };
    for (const [name, deployment] of Object.entries({ gateway, platform })) {
      const container = deployment.spec.template.spec.containers[0]!;
      expect(container.livenessProbe?.httpGet?.path, name).toBe(expected[name as keyof typeof expected].live);
      expect(container.readinessProbe?.httpGet?.path, name).toBe(expected[name as keyof typeof expected].ready);
      expect(container.startupProbe?.httpGet?.path, name).toBe("/livez");
      // A restart needs the process silent for at least half a minute, never one slow answer.
      const liveness = container.livenessProbe!;
      expect((liveness.periodSeconds ?? 10) * (liveness.failureThreshold ?? 3), name).toBeGreaterThanOrEqual(30);
      expect(liveness.timeoutSeconds ?? 1, name).toBeGreaterThanOrEqual(3);
    }
  });

  it("admits traffic to the gateway from the platform's pods, the other gateways', the backup job's and Prometheus's, and from nothing else", async () => {
    const documents = await loadKubernetes(KUBERNETES_FILES);
    const { gateway, platform } = await loadDeployments();
    const policies = documents.filter((entry) => entry.kind === "NetworkPolicy").map((entry) => NetworkPolicy.parse(entry.document));
    const gatewayLabels = gateway.spec.template.metadata.labels;
    const governing = policies.filter((policy) => matches(policy.spec.podSelector.matchLabels, gatewayLabels));
    expect(governing).toHaveLength(1);
    const policy = governing[0]!;
    expect(policy.spec.policyTypes).toContain("Ingress");
    // One rule, four peers (pod selectors, so this namespace only; no ipBlock, no namespaceSelector):
    // the platform, the other gateways (a message forwarded to the holder of its session's lease),
    // the nightly backup, which asks the gateway for a consistent cut, and Prometheus (its Helm
    // chart's and operator's pod label), which scrapes /metrics with METRICS_TOKEN.
    expect(policy.spec.ingress).toHaveLength(1);
    const [rule] = policy.spec.ingress;
    const backupJob = documents.find((entry) => entry.kind === "CronJob")?.document as { spec: { jobTemplate: { spec: { template: { metadata: { labels: Record<string, string> } } } } } };
    const backupLabels = backupJob.spec.jobTemplate.spec.template.metadata.labels;
    expect(rule!.from).toHaveLength(4);
    const [platformPeer, gatewayPeer, backupPeer, prometheusPeer] = rule!.from.map((peer) => peer.podSelector.matchLabels);
    expect(matches(platformPeer!, platform.spec.template.metadata.labels)).toBe(true);
    expect(matches(gatewayPeer!, gatewayLabels)).toBe(true);
    expect(matches(backupPeer!, backupLabels)).toBe(true);
    expect(prometheusPeer).toEqual({ "app.kubernetes.io/name": "prometheus" });
    for (const admitted of [platformPeer!, backupPeer!, prometheusPeer!]) expect(matches(admitted, gatewayLabels)).toBe(false);
    expect(rule!.ports).toEqual([{ protocol: "TCP", port: gateway.spec.template.spec.containers[0]!.ports[0]!.containerPort }]);
  });

  it("admits to Redis the gateways and the platforms, on the port of the Secret's REDIS_URL, and nothing else", async () => {
    const documents = await loadKubernetes(KUBERNETES_FILES);
    const { gateway, platform } = await loadDeployments();
    const policies = documents.filter((entry) => entry.kind === "NetworkPolicy" && entry.file === "redis.yaml").map((entry) => NetworkPolicy.parse(entry.document));
    expect(policies).toHaveLength(1);
    const policy = policies[0]!;
    // Both read REDIS_URL (leases and relay; membership), from the Secret.
    for (const deployment of [gateway, platform]) {
      const redisUrl = deployment.spec.template.spec.containers[0]!.env.find((entry) => entry.name === "REDIS_URL");
      expect(redisUrl?.valueFrom?.secretKeyRef, deployment.metadata.name).toEqual({ name: "workforce", key: "REDIS_URL" });
    }
    expect(policy.spec.podSelector.matchLabels).toEqual({ "app.kubernetes.io/name": "redis" });
    expect(policy.spec.policyTypes).toEqual(["Ingress"]);
    expect(policy.spec.ingress).toHaveLength(1);
    const [rule] = policy.spec.ingress;
    const peers = rule!.from.map((peer) => peer.podSelector.matchLabels);
    expect(peers).toHaveLength(2);
    for (const deployment of [gateway, platform]) expect(peers.some((peer) => matches(peer, deployment.spec.template.metadata.labels)), deployment.metadata.name).toBe(true);
    const secret = (await loadKubernetes(["secrets.example.yaml"]))[0]!.document as { stringData: Record<string, string> };
    expect(rule!.ports).toEqual([{ protocol: "TCP", port: Number(new URL(secret.stringData.REDIS_URL!).port) }]);
  });

  it("give each Deployment a PodDisruptionBudget: both drain one replica at a time, always leaving most gateways serving", async () => {
    const documents = await loadKubernetes(KUBERNETES_FILES);
    const Budget = z.object({
      spec: z.object({ selector: z.object({ matchLabels: z.record(z.string(), z.string()) }), minAvailable: z.number().optional(), maxUnavailable: z.number().optional() }),
    });
    const budgets = documents.filter((entry) => entry.kind === "PodDisruptionBudget").map((entry) => Budget.parse(entry.document).spec);
    const { gateway, platform } = await loadDeployments();
    const budgetOf = (deployment: Deployment) => {
      const found = budgets.filter((budget) => Object.entries(budget.selector.matchLabels).every(([key, value]) => deployment.spec.template.metadata.labels[key] === value));
      expect(found, deployment.metadata.name).toHaveLength(1);
      return found[0]!;
    };
    expect(budgetOf(platform).maxUnavailable).toBe(1);
    expect(platform.spec.replicas).toBeGreaterThan(1);
    // Several gateways (a cluster on Redis): a drain takes one at a time; the sessions it held
    // move to the others, its runs end run_interrupted. A single gateway (minAvailable: 1, decision
    // 024) would never be evicted; with three, two keep serving throughout.
    expect(gateway.spec.replicas).toBeGreaterThanOrEqual(3);
    expect(budgetOf(gateway).maxUnavailable).toBe(1);
    expect(gateway.spec.replicas - 1).toBeGreaterThan(gateway.spec.replicas / 2);
  });
});

describe("Dockerfile", () => {
  it("builds in stages and ships production dependencies only, as a non-root user with a health check", async () => {
    const dockerfile = await readRepoFile("Dockerfile");
    const image = /^ARG NODE_IMAGE=(\S+)$/m.exec(dockerfile)?.[1];
    expect(image).toBeDefined();
    expectPinned(image!, "NODE_IMAGE");
    // A Node LTS line (even major) at least as new as the oldest the code supports.
    const major = Number(/^node:(\d+)\./.exec(image!)?.[1]);
    expect(major % 2).toBe(0);
    expect(major).toBeGreaterThanOrEqual(20);

    const stages = dockerfileStages(dockerfile);
    expect([...stages.keys()]).toEqual(["build", "production-dependencies", "runtime"]);
    for (const stage of stages.values()) expect(stage.from).toBe("${NODE_IMAGE}");
    const build = stages.get("build")!.lines.join("\n");
    expect(build).toMatch(/npm run build:web && npm run build/);
    const production = stages.get("production-dependencies")!.lines.join("\n");
    expect(production).toMatch(/^RUN npm ci --omit=dev .*--ignore-scripts/m);

    const runtime = stages.get("runtime")!.lines;
    // node_modules only from the production install; from the build, named output and sources.
    const copies = runtime.filter((line) => line.startsWith("COPY"));
    for (const copy of copies) {
      expect(copy, "copies from a stage, never the whole build context").toMatch(/^COPY --from=(build|production-dependencies) /);
      if (copy.includes("--from=build")) expect(copy, "a named path of the build, never /app itself").toMatch(/^COPY --from=build \/app\/\S+ \S+$/);
    }
    expect(copies.some((copy) => copy.startsWith("COPY --from=production-dependencies /app/"))).toBe(true);
    expect(copies.filter((copy) => copy.includes("--from=build")).join("\n")).not.toMatch(/node_modules/);
    expect(runtime.join("\n")).not.toMatch(/npm (ci|install)/);
    expect(copies.join("\n")).toMatch(/COPY --from=build \/app\/bin bin/); // the operator CLI (`workforce`)

    const user = runtime.filter((line) => line.startsWith("USER")).at(-1);
    expect(user).toBe("USER node");
    const healthcheck = runtime.find((line) => line.startsWith("HEALTHCHECK"));
    expect(healthcheck).toMatch(/CMD \["node", "-e", .*\/livez/);
    expect(healthcheck).not.toMatch(/curl|wget/);
    expect(runtime.at(-1)).toBe('CMD ["node", "platform/dist/main.js"]');
  });

  it("keeps secrets, local data and foreign builds out of the build context", async () => {
    const ignored = (await readRepoFile(".dockerignore")).split("\n").map((line) => line.trim());
    for (const entry of ["**/node_modules", "**/dist", ".git", ".env", ".env.*", ".data", "deploy/kubernetes/secrets.yaml"]) expect(ignored).toContain(entry);
  });
});
