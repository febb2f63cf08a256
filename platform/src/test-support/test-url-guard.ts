import { AppError } from "@workforce/protocol";
import type { UrlGuard } from "../integrations/mcp/mcp-ports";

/**
 * The SSRF guard for tests whose MCP servers run on loopback in the test process: every address
 * passes but the cloud metadata one, which is refused as the real guard refuses private ones.
 */
export const TEST_URL_GUARD: UrlGuard = {
  async assertPublicUrl(url) {
    if (new URL(url).hostname === "169.254.169.254") throw new AppError("validation_failed", "169.254.169.254 is a link-local address and may not be reached", { status: 400 });
  },
  fetch: (input, init) => fetch(input, init),
};
