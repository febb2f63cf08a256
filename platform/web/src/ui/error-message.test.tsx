import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { ErrorMessage } from "./error-message";

/** The markup outside the "Details" disclosure: what a user reads without opening it. */
const outsideDetails = (html: string) => html.replace(/<details[\s\S]*<\/details>/, "").replace(/<[^>]+>/g, " ");

describe("ErrorMessage", () => {
  it("shows a sentence and a next step, with the code and the validator's text only under Details", () => {
    const html = renderToStaticMarkup(<ErrorMessage error={{ code: "validation_failed", message: "title: Too small: expected string to have >=1 characters" }} />);
    expect(outsideDetails(html)).toContain("Title is required.");
    expect(outsideDetails(html)).not.toContain("validation_failed");
    expect(outsideDetails(html)).not.toContain("Too small");
    expect(html).toMatch(/<details class="error-details"><summary>Details<\/summary><code class="error-code">validation_failed<\/code>/);
    expect(html).toContain("Too small: expected string to have &gt;=1 characters");
  });

  it("offers Retry only for an error that can succeed when repeated", () => {
    const retry = () => undefined;
    expect(renderToStaticMarkup(<ErrorMessage error={{ code: "provider_overloaded", message: "529" }} onRetry={retry} />)).toContain(">Retry</button>");
    expect(renderToStaticMarkup(<ErrorMessage error={{ code: "budget_exceeded", message: "used up", retryable: false }} onRetry={retry} />)).not.toContain("Retry");
  });

  it("says nothing for a suspended organisation (its banner does) or no error", () => {
    expect(renderToStaticMarkup(<ErrorMessage error={{ code: "tenant_suspended", message: "suspended" }} />)).toBe("");
    expect(renderToStaticMarkup(<ErrorMessage error={undefined} />)).toBe("");
  });
});
