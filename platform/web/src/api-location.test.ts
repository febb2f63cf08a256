import { describe, expect, it } from "vitest";
import { apiBaseUrl, apiOrigin } from "./api-location";

describe("VITE_API_URL", () => {
  it("defaults to /api on the page's origin", () => {
    expect(apiBaseUrl(undefined)).toBe("/api");
    expect(apiBaseUrl("  ")).toBe("/api");
    expect(apiOrigin(apiBaseUrl(undefined), "https://app.example.com")).toBe("https://app.example.com");
  });

  it("takes the guide's bare origin as the platform there, whose API is under /api", () => {
    expect(apiBaseUrl("https://api.yourapp.com")).toBe("https://api.yourapp.com/api");
    expect(apiBaseUrl("https://api.yourapp.com/")).toBe("https://api.yourapp.com/api");
    expect(apiOrigin(apiBaseUrl("https://api.yourapp.com"), "https://cdn.example.net")).toBe("https://api.yourapp.com");
  });

  it("keeps a path as given, without its trailing slash", () => {
    expect(apiBaseUrl("/api/")).toBe("/api");
    expect(apiBaseUrl("https://example.com/workforce/api/")).toBe("https://example.com/workforce/api");
  });
});
