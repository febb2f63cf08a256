import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { ModelKeyStatus, PolicyNote } from "./model-key-status";

describe("model keys section", () => {
  it("shows a set key by its hint and base URL, with who set it, and an unset one as lent by the installation", () => {
    const set = renderToStaticMarkup(
      <ModelKeyStatus
        view={{ provider: "openai-compatible", set: true, hint: "…1234", baseUrl: "https://models.acme.example/v1", updatedAt: "2026-12-03T06:00:00.000Z", updatedBy: { userId: "u1", email: "olivia@acme.example" } }}
      />,
    );
    expect(set).toContain("…1234");
    expect(set).toContain("https://models.acme.example/v1");
    expect(set).toContain("by olivia@acme.example");
    const unset = renderToStaticMarkup(<ModelKeyStatus view={{ provider: "anthropic", set: false, hint: null, baseUrl: null, updatedAt: null, updatedBy: null }} />);
    expect(unset).toContain("No key of your own");
  });

  it("tells whether the installation lends its key, and when keys cannot be stored at all", () => {
    expect(renderToStaticMarkup(<PolicyNote policy={{ platformKeyFallback: true, privateBaseUrls: false, available: true }} />)).toContain("use the installation&#x27;s key");
    const strict = renderToStaticMarkup(<PolicyNote policy={{ platformKeyFallback: false, privateBaseUrls: false, available: false }} />);
    expect(strict).toContain("does not lend its own key");
    expect(strict).toContain("cannot be stored");
  });
});
