/**
 * MCP tools from the web app, through the whole system: an admin adds an MCP server (a real SDK
 * server in this process, behind a header key) on the Integrations screen, sees its tools, grants
 * one to an agent on the agent's Tools panel, chats, and the (scripted) model's call of the tool
 * reaches the server through the gateway; its answer shows in the chat.
 */
import { startFakeUpstream, type FakeUpstream } from "@workforce/fake-upstream";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMcpTestServer, type McpTestServer } from "../platform/src/test-support/mcp-test-server";
import type { RunningSystem } from "./system";
import { chromiumPath, nav, signedUpPage, startWebSystem } from "./web-support";

const FAKE_API_KEY = "sk-ant-e2e-mcp";
const SERVER_KEY = "mcp-key-for-the-browser-test-4242";
let system: RunningSystem;
let browser: Browser;
let stop: () => Promise<void>;
let fake: FakeUpstream;
let mcp: McpTestServer;

describe.runIf(chromiumPath)("MCP servers in the web app", () => {
  beforeAll(async () => {
    fake = await startFakeUpstream({ apiKey: FAKE_API_KEY });
    mcp = await startMcpTestServer({ requiredHeaders: { "x-api-key": SERVER_KEY } });
    const host = new URL(mcp.url).host;
    ({ system, browser, stop } = await startWebSystem({
      ANTHROPIC_API_KEY: FAKE_API_KEY,
      ANTHROPIC_BASE_URL: fake.url,
      // The operator allows this one private host: the MCP server of the test.
      WORKFORCE_OUTBOUND_ALLOW_HOSTS: host,
    }));
  }, 180_000);
  afterAll(async () => {
    await stop?.();
    await mcp?.close();
    await fake?.close();
  });

  it("adds a server with a header, grants its tool to an agent, and the agent's call of it shows in the chat", async () => {
    const { context, page } = await signedUpPage(browser, system, "mcp-admin@example.com");
    await page.getByLabel("Name").fill("Ada");
    await page.getByLabel("Role", { exact: true }).fill("Research Analyst");
    await page.getByRole("button", { name: "Create agent" }).click();
    await page.locator("[data-testid=agent-card][data-agent=ada]").waitFor();

    await nav(page, "Integrations");
    await page.getByRole("button", { name: "Add MCP server" }).click();
    await page.getByLabel("Server name").fill("Company tools");
    await page.getByLabel("Namespace").fill("tools");
    await page.getByLabel("Server URL").fill(mcp.url);
    await page.getByLabel("Authentication").selectOption("headers");
    await page.getByLabel("Header name 1").fill("X-Api-Key");
    await page.getByLabel("Header value 1").fill(SERVER_KEY);
    await page.getByRole("button", { name: "Add server" }).click();
    const row = page.locator("[data-testid=mcp-server-row][data-namespace=tools]");
    await row.locator("[data-testid=mcp-server-status][data-status=ok]").waitFor({ timeout: 30_000 });
    expect(await row.getByTestId("mcp-server-tools").textContent()).toContain("echo");
    // The key is shown only as a hint.
    expect(await row.textContent()).toContain("X-Api-Key: …4242");
    expect(await page.content()).not.toContain(SERVER_KEY);

    await nav(page, "Agents");
    const card = page.locator("[data-testid=agent-card][data-agent=ada]");
    await card.getByRole("button", { name: "Tools of Ada" }).click();
    await card.getByLabel("echo (tools)").selectOption("allow");
    await card.getByRole("button", { name: "Save tools" }).click();
    await card.getByRole("status").filter({ hasText: "Saved." }).waitFor();

    fake.enqueue({ kind: "tool_use", name: "mcp__tools__echo", input: { text: "from the browser" } }, { kind: "text", text: "The server said it back." });
    await card.getByRole("button", { name: "Chat" }).click();
    await page.getByTestId("composer").fill("Ask the company tools to echo something.");
    await page.getByRole("button", { name: "Send", exact: true }).click();
    const reply = page.locator("[data-testid=message-assistant][data-status=ok]");
    await reply.waitFor({ timeout: 30_000 });
    const call = reply.getByTestId("tool-call");
    await call.click();
    expect(await call.textContent()).toContain("echo: from the browser");
    expect(await reply.textContent()).toContain("The server said it back.");
    // The call went to the MCP server with the organisation's header.
    expect(mcp.requests.some((headers) => headers["x-api-key"] === SERVER_KEY)).toBe(true);
    await context.close();
  }, 120_000);
});
