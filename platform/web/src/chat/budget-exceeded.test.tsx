import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { cannotRetry } from "./budget-exceeded-notice";
import type { AssistantMessage } from "./chat-types";
import { MessageView } from "./message-view";

describe("a message refused because the month's budget is used up", () => {
  it("says so in words and links to the budget screen, with no code shown and no Retry offered", () => {
    const refused: AssistantMessage = {
      id: "m1",
      role: "assistant",
      parts: [],
      status: "error",
      error: { code: "budget_exceeded", message: "Monthly token budget exceeded (2336 of 1000 tokens since 2026-12-01T00:00:00.000Z)" },
    };
    expect(cannotRetry(refused.error?.code)).toBe(true);
    // The chat screen offers Retry only where it can work.
    const html = renderToStaticMarkup(<MessageView message={refused} onRetry={cannotRetry(refused.error?.code) ? undefined : () => undefined} />);
    expect(html).toContain('data-testid="budget-exceeded-notice"');
    expect(html).toContain('href="/budget"');
    expect(html).toContain("used up its token budget");
    // The code and the server's arithmetic only under Details.
    const visible = (html.split("<details")[0] ?? "").replace(/<[^>]+>/g, "");
    expect(visible).not.toContain("budget_exceeded");
    expect(visible).not.toContain("2336 of 1000");
    expect(html).not.toContain("Retry");
    expect(cannotRetry("run_interrupted")).toBe(false);
  });
});
