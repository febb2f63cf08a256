/**
 * Every screen of the web app, for the tour in web-screens.test.ts: where it is, and what shows
 * once it has loaded. A new screen is one more line here.
 */
import type { Locator, Page } from "playwright-core";
import type { Seeded } from "./web-screens-seed";

/** The owner who signs up (the installation's first account, so its operator too), and the member who joins. */
export const OWNER = "maya@example.com";
export const MEMBER = "sam@example.com";

export interface Screen {
  /** Its name in reports and in docs/screenshots/{name}-{desktop|mobile}.png. */
  name: string;
  /** Signed out: a fresh browser context without a session. */
  signedOut?: boolean;
  /** The path to open (after the platform's origin). */
  path: (seeded: Seeded) => string;
  /** What the user does there first, if anything (e.g. follow a link). */
  act?: (page: Page) => Promise<void>;
  /** What is on the screen once its data has loaded. */
  ready: (page: Page) => Locator;
}

const heading = (page: Page, name: string) => page.getByRole("heading", { name, exact: true, level: 1 });

export const SCREENS: readonly Screen[] = [
  // Signed out.
  { name: "sign-in", signedOut: true, path: () => "/", ready: (page) => page.getByRole("button", { name: "Sign in" }) },
  {
    name: "sign-up",
    signedOut: true,
    path: () => "/",
    act: async (page) => {
      await page.getByLabel("Email").fill("new.user@example.com");
      await page.getByLabel("Password").fill("a long enough password");
    },
    ready: (page) => page.getByRole("button", { name: "Sign up" }),
  },
  {
    name: "forgot-password",
    signedOut: true,
    path: () => "/",
    act: (page) => page.getByRole("button", { name: "Forgot password?" }).click(),
    ready: (page) => heading(page, "Reset your password"),
  },
  { name: "invite", signedOut: true, path: (seeded) => new URL(seeded.inviteLink).pathname, ready: (page) => page.getByTestId("invitation-summary") },
  // Signed in as the owner (the installation's operator too).
  { name: "agents", path: () => "/agents", ready: (page) => page.locator("[data-testid=agent-card][data-agent=grace]") },
  {
    name: "agent-new",
    path: () => "/agents",
    act: (page) => page.getByRole("button", { name: "New agent" }).click(),
    ready: (page) => page.getByRole("heading", { name: "Create an agent" }),
  },
  {
    name: "agent-tools",
    path: () => "/agents",
    act: (page) => page.getByRole("button", { name: "Tools of Ada" }).click(),
    ready: (page) => page.locator("[data-testid=agent-tools][data-agent=ada]"),
  },
  {
    name: "agent-edit",
    path: () => "/agents",
    act: (page) => page.getByRole("button", { name: "Edit Ada" }).click(),
    ready: (page) => page.getByRole("heading", { name: "Edit Ada" }),
  },
  { name: "chat-new", path: () => "/agents/ada", ready: (page) => page.getByTestId("composer") },
  { name: "chat", path: (seeded) => `/agents/ada?session=${seeded.chatSession}`, ready: (page) => page.locator("[data-testid=message-assistant][data-status=ok]") },
  {
    name: "chat-approval",
    path: (seeded) => `/agents/grace?session=${seeded.approvalSession}`,
    ready: (page) => page.locator("[data-testid=approval-prompt][data-status=pending]"),
  },
  {
    name: "shortcuts",
    path: (seeded) => `/agents/ada?session=${seeded.chatSession}`,
    act: async (page) => {
      await page.locator("[data-testid=message-assistant][data-status=ok]").waitFor();
      await page.getByRole("heading", { level: 1 }).first().click();
      await page.keyboard.press("?");
    },
    ready: (page) => page.getByTestId("shortcuts-dialog").getByRole("heading", { name: "Keyboard shortcuts" }),
  },
  { name: "search", path: () => "/search?q=support", ready: (page) => page.getByTestId("search-result").first() },
  { name: "work", path: () => "/agents/ada/work", ready: (page) => page.locator("[data-testid=firing-row][data-status=completed]").first() },
  { name: "approvals", path: () => "/approvals", ready: (page) => page.locator("[data-testid=approval-card][data-status=pending]") },
  { name: "team", path: () => "/team", ready: (page) => page.locator(`[data-testid=member-row][data-email="${MEMBER}"]`) },
  { name: "keys", path: () => "/keys", ready: (page) => page.locator("[data-testid=key-row][data-key-name='CI bot']") },
  { name: "usage", path: () => "/usage", ready: (page) => page.locator("[data-testid=usage-agent-row][data-agent=ada]") },
  { name: "budget", path: () => "/budget", ready: (page) => page.getByTestId("budget-meter") },
  { name: "audit", path: () => "/audit", ready: (page) => page.getByTestId("audit-entry").first() },
  { name: "data", path: () => "/data", ready: (page) => heading(page, "Export & delete") },
  { name: "integrations", path: () => "/integrations", ready: (page) => page.getByTestId("mcp-servers") },
  { name: "webhooks", path: () => "/webhooks", ready: (page) => page.getByTestId("webhook-row") },
  { name: "account", path: () => "/account", ready: (page) => page.getByTestId("account-email").filter({ hasText: OWNER }) },
  { name: "operator", path: () => "/operator", ready: (page) => page.locator("[data-testid=operator-row][data-tenant-name='Acme Research']") },
  { name: "new-password", path: () => "/auth/new-password", ready: (page) => heading(page, "Choose a new password") },
  { name: "not-found", path: () => "/no-such-page", ready: (page) => heading(page, "Not found") },
];
