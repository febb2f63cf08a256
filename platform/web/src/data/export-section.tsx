import { useEffect, useRef, useState } from "react";
import type { DownloadProgress } from "../api/governance-api";
import { useServices } from "../services";
import { download } from "../ui/download";
import { ErrorMessage } from "../ui/error-message";
import { useAction } from "../ui/use-action";
import { formatBytes } from "../usage/format";

/**
 * Downloads the organisation as one JSON file. The platform gathers every agent's chats from the
 * gateway first, which takes a while for a large organisation, so the screen says what is happening:
 * preparing, then how much has arrived.
 */
export function ExportSection({ tenantId }: { tenantId: string }) {
  const { api } = useServices();
  const { busy, error, act } = useAction();
  const [progress, setProgress] = useState<DownloadProgress>();
  const [done, setDone] = useState<{ filename: string; size: number }>();
  const abort = useRef<AbortController>(undefined);
  useEffect(() => () => abort.current?.abort(), []);

  function start() {
    setDone(undefined);
    setProgress(undefined);
    const controller = new AbortController();
    abort.current = controller;
    void act(async () => {
      const { blob, filename } = await api.governance.exportTenant(setProgress, controller.signal);
      const name = filename ?? `workforce-${tenantId}.json`;
      download(name, blob);
      setDone({ filename: name, size: blob.size });
    }).finally(() => setProgress(undefined));
  }

  const percent = progress?.total ? Math.min(100, Math.round((progress.received / progress.total) * 100)) : undefined;
  return (
    <section className="card section" aria-labelledby="export-title">
      <h2 id="export-title">Export</h2>
      <p>
        One JSON file with everything the organisation holds: members, invitations, API keys (without their secrets), usage, the budget, the audit log, integrations
        (without keys), webhooks and every agent with all its chats.
      </p>
      <div className="button-row">
        <button type="button" className="button primary" onClick={start} disabled={busy} aria-busy={busy}>
          {busy ? "Exporting…" : "Download export"}
        </button>
      </div>
      {busy ? (
        <div className="export-progress" data-testid="export-progress">
          <progress aria-label="Export progress" max={100} value={percent} />
          <span className="muted small" role="status">
            {progress === undefined || progress.received === 0
              ? "Preparing the export: gathering every agent's chats…"
              : `Downloading… ${formatBytes(progress.received)}${progress.total ? ` of ${formatBytes(progress.total)}` : ""}`}
          </span>
        </div>
      ) : null}
      {done ? (
        <p className="small" role="status" data-testid="export-done">
          Downloaded <strong>{done.filename}</strong> ({formatBytes(done.size)}). Keep it somewhere safe: it holds all your organisation's chats.
        </p>
      ) : null}
      <ErrorMessage error={error} />
    </section>
  );
}
