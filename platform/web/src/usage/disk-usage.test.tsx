import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { DiskUsageCard } from "./disk-usage";

const MB = 1024 * 1024;

describe("disk usage card", () => {
  it("shows the bytes used against the quota as a bar that warns near and at the quota", () => {
    const ok = renderToStaticMarkup(<DiskUsageCard disk={{ usedBytes: 512 * MB, quotaBytes: 2048 * MB }} />);
    expect(ok).toContain("512 MB used of 2 GB");
    expect(ok).toMatch(/role="meter"[^>]*aria-valuenow="536870912"/);
    expect(ok).toContain("width:25.0%");
    expect(ok).toContain("disk-bar-ok");

    expect(renderToStaticMarkup(<DiskUsageCard disk={{ usedBytes: 1900 * MB, quotaBytes: 2048 * MB }} />)).toContain("disk-bar-near");
    const full = renderToStaticMarkup(<DiskUsageCard disk={{ usedBytes: 2100 * MB, quotaBytes: 2048 * MB }} />);
    expect(full).toContain("disk-bar-full");
    expect(full).toContain("width:100.0%");
    expect(full).toContain("The quota is reached");
  });

  it("says when there is no quota, and when the gateway could not tell", () => {
    const unlimited = renderToStaticMarkup(<DiskUsageCard disk={{ usedBytes: 1536, quotaBytes: null }} />);
    expect(unlimited).toContain("1.5 KB used (no quota)");
    expect(unlimited).not.toContain("meter");
    const unknown = renderToStaticMarkup(
      <DiskUsageCard disk={{ usedBytes: null, quotaBytes: null, error: { code: "gateway_unavailable", message: "Disk use is unknown: The agent gateway is not reachable right now" } }} />,
    );
    expect(unknown).toContain("Disk use is unknown right now.");
    // Why, in words; the server's message only under Details.
    expect(unknown).toContain("Agents are not reachable right now.");
    expect(unknown).toMatch(/<details class="error-details"><summary>Details<\/summary><code class="error-code">gateway_unavailable<\/code>/);
  });
});
