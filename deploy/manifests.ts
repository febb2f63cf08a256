/**
 * The deployment files as the deploy tests read them: compose.yaml (with its `<<` merges
 * applied, as `docker compose` does) and the Kubernetes documents, validated into the few shapes
 * the tests look at. There is no container engine here, so these parsed files are what is tested.
 */
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { parse, parseAllDocuments } from "yaml";
import { z } from "zod";

export const repoRoot = path.resolve(import.meta.dirname, "..");
export const readRepoFile = (file: string) => readFile(path.join(repoRoot, file), "utf8");

const Healthcheck = z.object({ test: z.array(z.string()) });
const ComposeVolume = z.object({ type: z.string(), source: z.string(), target: z.string(), read_only: z.boolean().optional() });

export const ComposeService = z.object({
  image: z.string(),
  profiles: z.array(z.string()).optional(),
  networks: z.record(z.string(), z.object({ aliases: z.array(z.string()).default([]) })).optional(),
  build: z.string().optional(),
  user: z.string().optional(),
  command: z.array(z.string()).optional(),
  environment: z.record(z.string(), z.string()).default({}),
  volumes: z.array(z.union([ComposeVolume, z.string()])).default([]),
  tmpfs: z.array(z.string()).default([]),
  ports: z.array(z.string()).default([]),
  read_only: z.boolean().optional(),
  cap_drop: z.array(z.string()).optional(),
  security_opt: z.array(z.string()).optional(),
  healthcheck: Healthcheck.optional(),
  depends_on: z.record(z.string(), z.object({ condition: z.string() })).optional(),
});
export type ComposeService = z.infer<typeof ComposeService>;

const Compose = z.object({ services: z.record(z.string(), ComposeService), volumes: z.record(z.string(), z.unknown()) });

export async function loadCompose(): Promise<z.infer<typeof Compose>> {
  return Compose.parse(parse(await readRepoFile("compose.yaml"), { merge: true }));
}

/** compose.yaml's services with their `<<` merges applied and every key kept (nothing validated away), to compare services whole. */
export async function loadComposeServices(): Promise<Record<string, Record<string, unknown>>> {
  const document = z.object({ services: z.record(z.string(), z.record(z.string(), z.unknown())) });
  return document.parse(parse(await readRepoFile("compose.yaml"), { merge: true })).services;
}

/** What an operator's .env holds (see compose.yaml's header), for the tests that fill compose's `${…}`. */
export const DOT_ENV = {
  CLAWDBOT_HOOK_TOKEN: "t".repeat(32),
  WORKFORCE_SECRET_KEY: Buffer.alloc(32, 7).toString("base64"),
  PUBLIC_URL: "https://workforce.example.com",
  POSTGRES_PASSWORD: "a".repeat(64),
  WORKFORCE_DB_OWNER_PASSWORD: "b".repeat(64),
  WORKFORCE_DB_PASSWORD: "c".repeat(64),
  REDIS_PASSWORD: "d".repeat(64),
  METRICS_TOKEN: "e".repeat(64),
};

/** A compose service's environment as the container receives it, from DOT_ENV. */
export const environmentOf = (service: ComposeService) => Object.fromEntries(Object.entries(service.environment).map(([name, value]) => [name, substitute(value, DOT_ENV)]));

/** The services `docker compose --profile cluster up lb` starts: `lb` and everything it depends on, transitively. */
export function clusterServices(services: Record<string, ComposeService>): Set<string> {
  const started = new Set<string>();
  const visit = (name: string) => {
    if (started.has(name)) return;
    const service = services[name];
    if (!service) throw new Error(`compose.yaml has no service ${name}`);
    started.add(name);
    for (const dependency of Object.keys(service.depends_on ?? {})) visit(dependency);
  };
  visit("lb");
  return started;
}

const SecurityContext = z.object({
  runAsNonRoot: z.boolean().optional(),
  runAsUser: z.number().optional(),
  allowPrivilegeEscalation: z.boolean().optional(),
  readOnlyRootFilesystem: z.boolean().optional(),
  capabilities: z.object({ drop: z.array(z.string()).optional(), add: z.array(z.string()).optional() }).optional(),
  seccompProfile: z.object({ type: z.string() }).optional(),
});
const Probe = z.object({
  httpGet: z.object({ path: z.string(), port: z.number() }).optional(),
  tcpSocket: z.object({ port: z.number() }).optional(),
  periodSeconds: z.number().optional(),
  timeoutSeconds: z.number().optional(),
  failureThreshold: z.number().optional(),
});
const EnvEntry = z.object({
  name: z.string(),
  value: z.string().optional(),
  valueFrom: z
    .object({
      secretKeyRef: z.object({ name: z.string(), key: z.string(), optional: z.boolean().optional() }).optional(),
      fieldRef: z.object({ fieldPath: z.string() }).optional(),
    })
    .optional(),
});
const Quantities = z.object({ cpu: z.string(), memory: z.string() });
export const Container = z.object({
  name: z.string(),
  image: z.string(),
  command: z.array(z.string()),
  ports: z.array(z.object({ containerPort: z.number() })),
  env: z.array(EnvEntry),
  securityContext: SecurityContext.optional(),
  resources: z.object({ requests: Quantities, limits: Quantities }).optional(),
  startupProbe: Probe.optional(),
  livenessProbe: Probe.optional(),
  readinessProbe: Probe.optional(),
  volumeMounts: z.array(z.object({ name: z.string(), mountPath: z.string(), readOnly: z.boolean().optional() })),
});
export type Container = z.infer<typeof Container>;

const Labels = z.record(z.string(), z.string());
export const Deployment = z.object({
  kind: z.literal("Deployment"),
  metadata: z.object({ name: z.string() }),
  spec: z.object({
    replicas: z.number(),
    selector: z.object({ matchLabels: Labels }),
    template: z.object({
      metadata: z.object({ labels: Labels, annotations: z.record(z.string(), z.string()).optional() }),
      spec: z.object({
        automountServiceAccountToken: z.boolean().optional(),
        securityContext: SecurityContext.extend({ fsGroup: z.number().optional() }).optional(),
        containers: z.array(Container),
        initContainers: z.array(Container).optional(),
        volumes: z.array(z.object({ name: z.string(), persistentVolumeClaim: z.object({ claimName: z.string() }).optional(), emptyDir: z.unknown().optional() })),
      }),
    }),
  }),
});
export type Deployment = z.infer<typeof Deployment>;

/** Every document of every file under deploy/kubernetes/ named here, as plain objects with their kind. */
export async function loadKubernetes(files: readonly string[]): Promise<{ file: string; kind: string; document: unknown }[]> {
  const documents = await Promise.all(
    files.map(async (file) =>
      parseAllDocuments(await readRepoFile(`deploy/kubernetes/${file}`)).map((document) => {
        const value: unknown = document.toJS();
        return { file, kind: z.object({ kind: z.string() }).parse(value).kind, document: value };
      }),
    ),
  );
  return documents.flat();
}

const WorkloadContainer = Container.partial().required({ name: true, image: true }).extend({ volumeMounts: Container.shape.volumeMounts.default([]) });
const PodSpec = Deployment.shape.spec.shape.template.shape.spec.extend({
  containers: z.array(WorkloadContainer),
  initContainers: z.array(WorkloadContainer).optional(),
  volumes: Deployment.shape.spec.shape.template.shape.spec.shape.volumes.default([]),
});
export type PodSpec = z.infer<typeof PodSpec>;
export type WorkloadContainer = z.infer<typeof WorkloadContainer>;

/** Where each kind of workload keeps its pod template. */
const POD_SPEC_PATHS: Record<string, string[]> = {
  Deployment: ["spec", "template", "spec"],
  StatefulSet: ["spec", "template", "spec"],
  DaemonSet: ["spec", "template", "spec"],
  Job: ["spec", "template", "spec"],
  CronJob: ["spec", "jobTemplate", "spec", "template", "spec"],
};

/**
 * The pod spec of every workload in every manifest under deploy/kubernetes/ (whoever added it):
 * what the hardening rules apply to.
 */
export async function loadPodSpecs(): Promise<{ name: string; pod: PodSpec }[]> {
  const files = (await readdir(path.join(repoRoot, "deploy/kubernetes"))).filter((file) => /\.ya?ml$/.test(file) && !file.startsWith("secrets"));
  const documents = await loadKubernetes(files);
  return documents.flatMap(({ file, kind, document }) => {
    const route = POD_SPEC_PATHS[kind];
    if (!route) return [];
    let value: unknown = document;
    for (const key of route) value = z.record(z.string(), z.unknown()).parse(value)[key];
    const name = z.object({ metadata: z.object({ name: z.string() }) }).parse(document).metadata.name;
    return [{ name: `${file}: ${kind} ${name}`, pod: PodSpec.parse(value) }];
  });
}

/** The gateway's and the platform's Deployments. */
export async function loadDeployments(): Promise<{ gateway: Deployment; platform: Deployment }> {
  const documents = await loadKubernetes(["gateway.yaml", "platform.yaml"]);
  const deployments = documents.filter((entry) => entry.kind === "Deployment").map((entry) => Deployment.parse(entry.document));
  const byName = (name: string) => {
    const found = deployments.find((deployment) => deployment.metadata.name === name);
    if (!found) throw new Error(`no Deployment ${name} in deploy/kubernetes`);
    return found;
  };
  return { gateway: byName("gateway"), platform: byName("platform-api") };
}

/**
 * Fills compose's `${NAME}`, `${NAME:-default}` and `${NAME:?message}` the way `docker compose`
 * would from `.env`, and `$$` (an escaped dollar) to `$`.
 */
export function substitute(value: string, dotEnv: Record<string, string>): string {
  return value
    .replace(/\$\{(\w+)(?::([-?])([^}]*))?\}/g, (_match, name: string, kind: string | undefined, rest: string | undefined) => dotEnv[name] ?? (kind === "-" ? (rest ?? "") : ""))
    .replaceAll("$$", "$");
}

/** The Dockerfile's stages in order: name → its base and its instructions (continuations joined, comments dropped). */
export function dockerfileStages(dockerfile: string): Map<string, { from: string; lines: string[] }> {
  const stages = new Map<string, { from: string; lines: string[] }>();
  let current: string[] | undefined;
  // Continuation lines join their instruction.
  for (const line of dockerfile.replace(/\\\n\s*/g, " ").split("\n")) {
    const from = /^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/i.exec(line);
    if (from) {
      current = [];
      stages.set(from[2] ?? `stage${stages.size}`, { from: from[1]!, lines: current });
    } else if (current && line.trim() && !line.trim().startsWith("#")) current.push(line.trim());
  }
  return stages;
}

/** One section of an HAProxy configuration (`defaults`, `frontend web`, …): its keyword lines, comments dropped. */
export interface HaproxySection {
  kind: string;
  name: string;
  lines: string[];
}

/** deploy/haproxy/haproxy.cfg as sections: a section starts at an unindented line, its keywords are indented. */
export async function loadHaproxyConfig(): Promise<{ text: string; sections: HaproxySection[] }> {
  const text = await readRepoFile("deploy/haproxy/haproxy.cfg");
  const sections: HaproxySection[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.replace(/(^|\s)#.*$/, "").trimEnd();
    if (!line.trim()) continue;
    if (!/^\s/.test(line)) {
      const [kind = "", name = ""] = line.trim().split(/\s+/);
      sections.push({ kind, name, lines: [] });
    } else {
      const section = sections.at(-1);
      if (!section) throw new Error(`haproxy.cfg: "${line.trim()}" is outside any section`);
      section.lines.push(line.trim().replace(/\s+/g, " "));
    }
  }
  return { text, sections };
}
