import { readFile } from "node:fs/promises";
import path from "node:path";
import { Agent, ApiErrorBody } from "@workforce/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { startTestGateway, TENANT_A, type TestGateway } from "../test-support/test-gateway";
import { firstFreeSlug, slugFromName } from "./agent-slug";

const harnesses: TestGateway[] = [];
afterEach(async () => {
  for (const harness of harnesses.splice(0).reverse()) await harness.cleanup();
});

async function created(response: Response): Promise<Agent> {
  expect(response.status).toBe(201);
  return Agent.parse(((await response.json()) as { agent: unknown }).agent);
}

describe("agent slugs from names in any script", () => {
  it("transliterates names into readable slugs", async () => {
    const cases: [string, string][] = [
      ["Ada Lovelace", "ada-lovelace"],
      ["Zoë Ünal", "zoe-unal"],
      ["Исследователь", "issledovatel"],
      ["Ἀθηνᾶ Σοφία", "athina-sofia"],
      ["研究员", "yan-jiu-yuan"],
      ["한국어 비서", "han-gug-eo-bi-seo"],
      ["باحث", "bhth"],
      ["🤖 Ada", "ada"],
      ["🤖🔬", "agent"],
      ["👩🏽‍🔬", "agent"],
      ["", "agent"],
    ];
    for (const [name, slug] of cases) expect({ name, slug: await slugFromName(name) }).toEqual({ name, slug });
  });

  it("appends -2, -3, … to a taken slug, staying within 64 characters", () => {
    expect(firstFreeSlug("ada", new Set())).toBe("ada");
    expect(firstFreeSlug("ada", new Set(["ada"]))).toBe("ada-2");
    expect(firstFreeSlug("ada", new Set(["ada", "ada-2", "ada-3"]))).toBe("ada-4");
    const long = `${"a".repeat(62)}-b`;
    expect(firstFreeSlug(long, new Set([long]))).toBe(`${"a".repeat(62)}-2`);
  });

  it("gives agents with non-Latin, emoji-only and repeated names unique, readable slugs through the API", async () => {
    const h = await startTestGateway();
    harnesses.push(h);
    const names = ["Исследователь", "Ἀθηνᾶ", "研究员", "باحث", "🤖🔬", "🦉", "Ada", "Ada", "Исследователь"];
    const slugs: string[] = [];
    for (const name of names) {
      const agent = await created(await h.createAgent(TENANT_A, { name }));
      expect(agent.name).toBe(name);
      slugs.push(agent.slug);
    }
    expect(slugs).toEqual(["issledovatel", "athina", "yan-jiu-yuan", "bhth", "agent", "agent-2", "ada", "ada-2", "issledovatel-2"]);
    // Each has its own identity, under its own name.
    const identity = await readFile(path.join(h.dataDir, TENANT_A, "workspace", "agent-2", "IDENTITY.md"), "utf8");
    expect(identity).toContain("**Name:** 🦉");
    expect(((await (await h.request("GET", "/v1/agents/ada-2")).json()) as { agent: Agent }).agent.name).toBe("Ada");
  });

  it("still refuses an explicit slug that is taken", async () => {
    const h = await startTestGateway();
    harnesses.push(h);
    await created(await h.createAgent(TENANT_A, { name: "Ada" }));
    const taken = await h.createAgent(TENANT_A, { name: "Someone else", slug: "ada" });
    expect(taken.status).toBe(409);
    expect(ApiErrorBody.parse(await taken.json()).error.code).toBe("agent_exists");
    const list = (await (await h.request("GET", "/v1/agents")).json()) as { agents: Agent[] };
    expect(list.agents.map((agent) => [agent.slug, agent.name])).toEqual([["ada", "Ada"]]);
  });

  it("gives concurrent creates of one name different slugs, also across two gateways on one data dir", async () => {
    const first = await startTestGateway();
    harnesses.push(first);
    const second = await startTestGateway({ dataDir: first.dataDir });
    harnesses.push(second);
    const agents = await Promise.all(Array.from({ length: 8 }, (_, index) => (index % 2 === 0 ? first : second).createAgent(TENANT_A, { name: "Ada", role: `Analyst ${index}` }).then(created)));
    const slugs = agents.map((agent) => agent.slug).sort();
    expect(slugs).toEqual(["ada", "ada-2", "ada-3", "ada-4", "ada-5", "ada-6", "ada-7", "ada-8"].sort());
    // Nothing was overwritten: every role made it into config.json and each agent's own identity file.
    const config = JSON.parse(await readFile(path.join(first.dataDir, TENANT_A, "config.json"), "utf8")) as { agents: Agent[] };
    expect(config.agents.map((agent) => agent.role).sort()).toEqual(agents.map((agent) => agent.role).sort());
    for (const agent of agents) {
      const identity = await readFile(path.join(first.dataDir, TENANT_A, "workspace", agent.slug, "IDENTITY.md"), "utf8");
      expect(identity).toContain(`**Role:** ${agent.role}`);
    }
  });
});
