import type { UsageDisk } from "@workforce/protocol";
import { useId } from "react";
import { ErrorSummary } from "../ui/error-message";
import { formatBytes } from "./format";

/** From this share of the quota on, the bar warns. */
const NEAR_QUOTA = 0.9;

/** The organisation's files on the gateway against its disk quota, as a bar. */
export function DiskUsageCard({ disk }: { disk: UsageDisk }) {
  const id = useId();
  const { usedBytes, quotaBytes } = disk;
  const share = usedBytes !== null && quotaBytes ? Math.min(1, usedBytes / quotaBytes) : 0;
  const level = usedBytes !== null && quotaBytes !== null && usedBytes >= quotaBytes ? "full" : share >= NEAR_QUOTA ? "near" : "ok";
  return (
    <section className="card section" aria-labelledby={`${id}-disk`}>
      <h2 id={`${id}-disk`}>Disk</h2>
      {usedBytes === null ? (
        <div className="muted" data-testid="usage-disk">
          Disk use is unknown right now.
          {disk.error ? <ErrorSummary error={disk.error} /> : null}
        </div>
      ) : (
        <>
          <p data-testid="usage-disk">
            {formatBytes(usedBytes)} used {quotaBytes === null ? "(no quota)" : `of ${formatBytes(quotaBytes)}`}
          </p>
          {quotaBytes === null ? null : (
            <div
              className={`disk-bar disk-bar-${level}`}
              role="meter"
              aria-label="Disk used"
              aria-valuemin={0}
              aria-valuemax={quotaBytes}
              aria-valuenow={Math.min(usedBytes, quotaBytes)}
              aria-valuetext={`${formatBytes(usedBytes)} of ${formatBytes(quotaBytes)}`}
            >
              <div className="disk-bar-fill" style={{ width: `${(share * 100).toFixed(1)}%` }} />
            </div>
          )}
          <p className="hint">
            {level === "full"
              ? "The quota is reached: agents cannot start new runs or write files until files or sessions are deleted, or the operator raises the quota."
              : "Transcripts, agent settings and the files agents write in their workspaces."}
          </p>
        </>
      )}
    </section>
  );
}
