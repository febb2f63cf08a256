import { WEBHOOK_DISABLED_BY_MEMBER, type WebhookEndpointView, type WebhookEndpointWithSecret } from "@workforce/protocol";
import { useState } from "react";
import { useServices } from "../services";
import { ConfirmGroup } from "../ui/confirm-group";
import { ErrorMessage } from "../ui/error-message";
import { relativeTime } from "../ui/relative-time";
import { useAction } from "../ui/use-action";
import { DeliveryLog } from "./delivery-log";

/**
 * One endpoint: URL, events, whether it is on (and why not), its failures and secret hint; Send
 * test, Disable/Enable, Rotate secret, Delete, and its delivery log.
 */
export function WebhookRow(props: {
  endpoint: WebhookEndpointView;
  onChanged: (endpoint: WebhookEndpointView) => void;
  onSecret: (created: WebhookEndpointWithSecret) => void;
  onDeleted: () => void;
}) {
  const { endpoint } = props;
  const { api } = useServices();
  const { busy, error, setError, act: run } = useAction();
  const [confirming, setConfirming] = useState<"delete" | "rotate">();
  const [showLog, setShowLog] = useState(false);
  const [refreshKey, setRefreshKey] = useState(0);
  const [notice, setNotice] = useState<string>();
  const act = (action: () => Promise<void>) => {
    setNotice(undefined);
    return run(action);
  };

  const sendTest = () =>
    act(async () => {
      await api.webhooks.sendTest(endpoint.id);
      setNotice("Test event queued: it shows in the deliveries below within a few seconds.");
      setShowLog(true);
      setRefreshKey((key) => key + 1);
    });
  const setEnabled = (enabled: boolean) => act(async () => props.onChanged(await api.webhooks.update(endpoint.id, { enabled })));
  const rotate = () =>
    act(async () => {
      const rotated = await api.webhooks.rotateSecret(endpoint.id, 24);
      setConfirming(undefined);
      props.onChanged(rotated.endpoint);
      props.onSecret(rotated);
    });
  const remove = () =>
    act(async () => {
      await api.webhooks.remove(endpoint.id);
      props.onDeleted();
    });

  const name = endpoint.description || endpoint.url;
  return (
    <li className="row webhook-endpoint" data-testid="webhook-row" data-url={endpoint.url}>
      <div className="row-main">
        <span className="row-title">
          {endpoint.description ? `${endpoint.description} ` : null}
          <code className={endpoint.description ? "muted small" : undefined}>{endpoint.url}</code>{" "}
          <span className={`badge ${endpoint.enabled ? "badge-ok" : "badge-danger"}`} data-testid="webhook-status" data-enabled={String(endpoint.enabled)}>
            {endpoint.enabled ? "Enabled" : "Disabled"}
          </span>
        </span>
        <span className="muted small">
          {endpoint.eventTypes === null ? "All events" : endpoint.eventTypes.join(", ")} · Secret <code>{endpoint.secretHint}</code> · Added{" "}
          <time dateTime={endpoint.createdAt}>{relativeTime(endpoint.createdAt)}</time>
        </span>
        {!endpoint.enabled ? (
          endpoint.disabledReason === WEBHOOK_DISABLED_BY_MEMBER ? (
            <p className="small muted" data-testid="webhook-disabled-reason">
              Disabled by a member{endpoint.disabledAt ? ` ${relativeTime(endpoint.disabledAt)}` : ""}: nothing is sent to it until it is enabled.
            </p>
          ) : (
            <p className="small danger-text" data-testid="webhook-disabled-reason">
              Disabled automatically{endpoint.disabledAt ? ` ${relativeTime(endpoint.disabledAt)}` : ""}: {endpoint.disabledReason}. Fix the receiver, then enable it and redeliver what failed.
            </p>
          )
        ) : null}
        {endpoint.enabled && endpoint.consecutiveFailures > 0 ? (
          <p className="small warning-text" data-testid="webhook-failing">
            The last {endpoint.consecutiveFailures} attempt{endpoint.consecutiveFailures === 1 ? "" : "s"} failed
            {endpoint.failingSince ? ` (failing since ${new Date(endpoint.failingSince).toLocaleString()})` : ""}. After 3 days of failures the endpoint is disabled.
          </p>
        ) : null}
      </div>
      <div className="row-actions">
        <button type="button" className="button small" disabled={busy || !endpoint.enabled} onClick={() => void sendTest()}>
          {/* What is spoken contains what is shown (WCAG 2.5.3): the rest is visually hidden. */}
          Send<span className="visually-hidden"> a</span> test<span className="visually-hidden"> event to {name}</span>
        </button>
        <button type="button" className="button small" disabled={busy} onClick={() => void setEnabled(!endpoint.enabled)} aria-label={`${endpoint.enabled ? "Disable" : "Enable"} ${name}`}>
          {endpoint.enabled ? "Disable" : "Enable"}
        </button>
        <button type="button" className="button ghost small" aria-expanded={showLog} onClick={() => setShowLog((open) => !open)} aria-label={`Deliveries of ${name}`}>
          Deliveries
        </button>
        <button type="button" className="button ghost small" onClick={() => setConfirming("rotate")} aria-expanded={confirming === "rotate"}>
          Rotate<span className="visually-hidden"> the</span> secret<span className="visually-hidden"> of {name}</span>
        </button>
        <button type="button" className="button ghost small danger-text" onClick={() => setConfirming("delete")} aria-label={`Delete ${name}`} aria-expanded={confirming === "delete"}>
          Delete
        </button>
      </div>
      {confirming === "rotate" ? (
        <ConfirmGroup label={`Rotate the secret of ${name}?`} confirmLabel="Confirm rotate" busy={busy} onConfirm={() => void rotate()} onCancel={() => setConfirming(undefined)}>
          Make a new signing secret? It is shown once. The current one keeps signing for 24 hours alongside it, so you can update your receiver in the meantime.
        </ConfirmGroup>
      ) : null}
      {confirming === "delete" ? (
        <ConfirmGroup label={`Delete ${name}?`} confirmLabel="Confirm delete" busy={busy} onConfirm={() => void remove()} onCancel={() => setConfirming(undefined)}>
          Delete this endpoint? Nothing more is sent to it, and its delivery log and secret are erased.
        </ConfirmGroup>
      ) : null}
      {notice ? (
        <p className="notice small" role="status">
          {notice}
        </p>
      ) : null}
      <ErrorMessage error={error} onDismiss={() => setError(undefined)} />
      {showLog ? <DeliveryLog endpointId={endpoint.id} enabled={endpoint.enabled} refreshKey={refreshKey} /> : null}
    </li>
  );
}
