/**
 * compose's `cluster` profile and the Kubernetes cluster it mirrors: three gateways and two
 * platforms made from the single-node services (so the two cannot drift), sharing one data
 * volume and one Redis, each gateway advertising its own address, HAProxy in front, and the
 * default `docker compose up` untouched. The load balancer itself is in load-balancer.test.ts.
 */
import { describe, expect, it } from "vitest";
import { loadConfig as loadGatewayConfig } from "../gateway/src/config";
import { loadConfig } from "../platform/src/config";
import { clusterServices, DOT_ENV, environmentOf, loadCompose, loadComposeServices, loadDeployments, type ComposeService } from "./manifests";

const portOf = (service: ComposeService) => service.command![service.command!.indexOf("--port") + 1]!;
const named = (prefix: string, names: Iterable<string>) => [...names].filter((name) => new RegExp(`^${prefix}-\\d+$`).test(name)).sort();

/** A service without the keys named, environment variables included as `environment.NAME`. */
function without(service: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...service, environment: { ...(service.environment as Record<string, string>) } };
  for (const key of keys) {
    if (key.startsWith("environment.")) delete (copy.environment as Record<string, string>)[key.slice("environment.".length)];
    else delete copy[key];
  }
  return copy;
}

describe("compose's cluster profile", () => {
  it("leaves `docker compose up` as it was: one gateway, one platform, Postgres and Redis, nothing of the cluster", async () => {
    const { services } = await loadCompose();
    const always = Object.entries(services).filter(([, service]) => !service.profiles?.length).map(([name]) => name);
    expect(always.sort()).toEqual(["gateway", "platform", "postgres", "redis"]);
    for (const [name, service] of Object.entries(services)) if (!always.includes(name)) expect(service.profiles, name).toEqual(["cluster"]);
    expect(services.platform!.ports).toEqual(["3000:3000"]);
  });

  it("starts with `up lb` exactly three gateways, two platforms, the load balancer, Postgres and Redis", async () => {
    const { services } = await loadCompose();
    const started = clusterServices(services);
    expect([...started].sort()).toEqual(["gateway-1", "gateway-2", "gateway-3", "lb", "platform-1", "platform-2", "postgres", "redis"]);
    // The published port is the single platform's: PUBLIC_URL and bookmarks stay right; starting
    // both setups at once fails on it instead of running them side by side.
    const published = [...started].flatMap((name) => services[name]!.ports.map((port) => `${name} ${port}`));
    expect(published).toEqual([`lb ${services.platform!.ports[0]!.split(":")[0]}:8080`]);
    // Every platform waits for every gateway, and for Postgres and Redis.
    for (const platform of named("platform", started)) {
      expect(Object.keys(services[platform]!.depends_on ?? {}).sort(), platform).toEqual([...named("gateway", started), "postgres", "redis"].sort());
    }
  });

  it("makes each gateway and platform from the single-node service, changing only what a cluster needs", async () => {
    const raw = await loadComposeServices();
    const cluster = clusterServices((await loadCompose()).services);
    // Anything else that differs (an image, a probe, a mount, a hardening line) is drift.
    for (const gateway of named("gateway", cluster)) {
      expect(without(raw[gateway]!, ["profiles", "networks", "environment.GATEWAY_ADVERTISE_URL"]), gateway).toEqual(without(raw.gateway!, ["environment.GATEWAY_ADVERTISE_URL"]));
    }
    for (const platform of named("platform", cluster)) {
      expect(without(raw[platform]!, ["profiles", "ports", "depends_on", "environment.REDIS_URL", "environment.WORKFORCE_TRUST_PROXY"]), platform).toEqual(without(raw.platform!, ["ports", "depends_on"]));
    }
  });

  it("gives each gateway its own advertised address, reachable by that name on its port, and all of them the fallback name the platforms use", async () => {
    const { services } = await loadCompose();
    const gateways = named("gateway", clusterServices(services));
    const fallback = new URL(services["platform-1"]!.environment.CLAWDBOT_GATEWAY_URL!);
    const advertised = gateways.map((name) => {
      const service = services[name]!;
      const url = new URL(service.environment.GATEWAY_ADVERTISE_URL!);
      // Compose names a container's address after its service.
      expect(url.hostname, name).toBe(name);
      expect(url.port, name).toBe(portOf(service));
      expect(url.protocol).toBe("http:");
      // The fallback reaches any of them: compose's DNS answers the alias with every gateway running.
      expect(service.networks?.default?.aliases, name).toContain(fallback.hostname);
      expect(fallback.port).toBe(portOf(service));
      return url.href;
    });
    expect(new Set(advertised).size).toBe(3);
    // The single gateway advertises the name it is reached by, too.
    expect(new URL(services.gateway!.environment.GATEWAY_ADVERTISE_URL!).hostname).toBe("gateway");
  });

  it("shares one tenant-data volume and one Redis among the gateways, and gives the platforms that Redis and one trusted proxy hop", async () => {
    const { services } = await loadCompose();
    const started = clusterServices(services);
    const gateways = named("gateway", started).map((name) => services[name]!);
    const platforms = named("platform", started).map((name) => services[name]!);
    const redisUrls = new Set([...gateways, ...platforms].map((service) => service.environment.REDIS_URL));
    expect(redisUrls.size).toBe(1);
    expect(new Set(gateways.map((service) => JSON.stringify(service.volumes))).size).toBe(1);
    expect(gateways[0]!.volumes).toEqual([{ type: "volume", source: "tenant-data", target: gateways[0]!.environment.TENANT_DATA_DIR }]);
    for (const gateway of gateways) {
      const config = loadGatewayConfig(environmentOf(gateway), { port: portOf(gateway), bind: "0.0.0.0" }, "/home/nobody");
      expect(new URL(config.redisUrl!).password).toBe(DOT_ENV.REDIS_PASSWORD);
    }
    for (const platform of platforms) {
      const config = loadConfig(environmentOf(platform), "/home/nobody");
      // HAProxy appends the client's address to X-Forwarded-For; the platform takes it from there.
      expect(config.clientAddress.trustProxyHops).toBe(1);
      expect(config.publicUrl).toBe(DOT_ENV.PUBLIC_URL);
    }
  });
});

describe("the Kubernetes cluster and compose's", () => {
  it("run as many gateways and platforms", async () => {
    const cluster = clusterServices((await loadCompose()).services);
    const { gateway, platform } = await loadDeployments();
    expect(gateway.spec.replicas).toBe(named("gateway", cluster).length);
    expect(platform.spec.replicas).toBe(named("platform", cluster).length);
  });

  it("advertise each gateway at its own address on the gateway's port: the pod IP from the downward API", async () => {
    const { services } = await loadCompose();
    const container = (await loadDeployments()).gateway.spec.template.spec.containers[0]!;
    const env = Object.fromEntries(container.env.map((entry, index) => [entry.name, { ...entry, index }]));
    expect(env.POD_IP?.valueFrom?.fieldRef?.fieldPath).toBe("status.podIP");
    // Kubernetes expands $(POD_IP) only from a variable defined before it.
    expect(env.POD_IP!.index).toBeLessThan(env.GATEWAY_ADVERTISE_URL!.index);
    const expanded = new URL(env.GATEWAY_ADVERTISE_URL!.value!.replace("$(POD_IP)", "10.1.2.3"));
    const composed = new URL(services["gateway-1"]!.environment.GATEWAY_ADVERTISE_URL!);
    expect([expanded.protocol, expanded.hostname, expanded.port]).toEqual([composed.protocol, "10.1.2.3", String(container.ports[0]!.containerPort)]);
    expect(expanded.port).toBe(composed.port);
  });
});
