import type { WebhookDeliveryStatus, WebhookDeliveryView } from "@workforce/protocol";
import { useCallback, useEffect, useState } from "react";
import { toErrorDetail } from "../api/api-error";
import { useServices } from "../services";
import { ErrorMessage } from "../ui/error-message";
import { relativeTime } from "../ui/relative-time";

const STATUS: Record<WebhookDeliveryStatus, { text: string; badge: string }> = {
  pending: { text: "Pending", badge: "badge-warning" },
  failed: { text: "Retrying", badge: "badge-warning" },
  succeeded: { text: "Delivered", badge: "badge-ok" },
  dead: { text: "Failed", badge: "badge-danger" },
};

/** While an attempt is due soon, the log looks again this often (and at most this many times). */
const POLL_MS = 1_500;
const MAX_POLLS = 40;

const time = (iso: string) => new Date(iso).toLocaleString();

/**
 * An endpoint's deliveries, newest first: what was sent, how the endpoint answered, when the next
 * attempt is due, and Redeliver. Follows a delivery waiting for its first attempt until it is made.
 */
export function DeliveryLog({ endpointId, enabled, refreshKey }: { endpointId: string; enabled: boolean; refreshKey: number }) {
  const { api } = useServices();
  const [deliveries, setDeliveries] = useState<WebhookDeliveryView[]>();
  const [nextCursor, setNextCursor] = useState<string | null>(null);
  const [error, setError] = useState<{ code: string; message: string }>();
  const [busy, setBusy] = useState<string>();
  const [polls, setPolls] = useState(0);

  const load = useCallback(async () => {
    try {
      const page = await api.webhooks.deliveries(endpointId);
      setDeliveries(page.deliveries);
      setNextCursor(page.nextCursor);
    } catch (thrown) {
      setError(toErrorDetail(thrown));
    }
  }, [api, endpointId]);

  useEffect(() => {
    setPolls(0);
    void load();
  }, [load, refreshKey]);

  const waiting = deliveries?.some((delivery) => delivery.status === "pending") ?? false;
  useEffect(() => {
    if (!waiting || polls >= MAX_POLLS) return;
    const timer = setTimeout(() => {
      setPolls((count) => count + 1);
      void load();
    }, POLL_MS);
    return () => clearTimeout(timer);
  }, [waiting, polls, load]);

  async function more() {
    if (!nextCursor) return;
    try {
      const page = await api.webhooks.deliveries(endpointId, { cursor: nextCursor });
      setDeliveries((list) => [...(list ?? []), ...page.deliveries]);
      setNextCursor(page.nextCursor);
    } catch (thrown) {
      setError(toErrorDetail(thrown));
    }
  }

  async function redeliver(delivery: WebhookDeliveryView) {
    setBusy(delivery.id);
    setError(undefined);
    try {
      const updated = await api.webhooks.redeliver(endpointId, delivery.id);
      setDeliveries((list) => list?.map((other) => (other.id === updated.id ? updated : other)));
      setPolls(0);
    } catch (thrown) {
      setError(toErrorDetail(thrown));
    } finally {
      setBusy(undefined);
    }
  }

  return (
    <div className="delivery-log" data-testid="webhook-deliveries">
      <div className="button-row">
        <h3>Deliveries</h3>
        <button type="button" className="button ghost small" onClick={() => void load()}>
          Refresh
        </button>
      </div>
      <ErrorMessage error={error} onDismiss={() => setError(undefined)} />
      {deliveries === undefined && !error ? (
        <p className="muted small" role="status">
          Loading deliveries…
        </p>
      ) : deliveries?.length ? (
        <div className="table-scroll">
          <table className="data-table">
            <thead>
              <tr>
                <th scope="col">Event</th>
                <th scope="col">Status</th>
                <th scope="col" className="number">
                  Attempts
                </th>
                <th scope="col">Response</th>
                <th scope="col">Last attempt</th>
                <th scope="col">Next attempt</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {deliveries.map((delivery) => (
                <tr key={delivery.id} data-testid="webhook-delivery" data-status={delivery.status} data-event-type={delivery.eventType}>
                  <th scope="row">
                    <code>{delivery.eventType}</code>
                    <div className="muted small">
                      <time dateTime={delivery.createdAt} title={time(delivery.createdAt)}>
                        {relativeTime(delivery.createdAt)}
                      </time>
                    </div>
                  </th>
                  <td>
                    <span className={`badge ${STATUS[delivery.status].badge}`} data-testid="webhook-delivery-status">
                      {STATUS[delivery.status].text}
                    </span>
                  </td>
                  <td className="number" data-testid="webhook-delivery-attempts">
                    {delivery.attempts}
                  </td>
                  <td className="delivery-response">
                    <span data-testid="webhook-delivery-code">{delivery.lastStatusCode ?? "—"}</span>
                    {delivery.lastError || delivery.responseExcerpt || delivery.payload ? (
                      <details>
                        <summary className="small">Details</summary>
                        {delivery.lastError ? <p className="small danger-text">{delivery.lastError}</p> : null}
                        {delivery.responseExcerpt ? (
                          <>
                            <p className="small muted">The endpoint answered:</p>
                            <pre className="small">{delivery.responseExcerpt}</pre>
                          </>
                        ) : null}
                        <p className="small muted">
                          Sent (<code>webhook-id: {delivery.eventId}</code>):
                        </p>
                        <pre className="small">{delivery.payload}</pre>
                      </details>
                    ) : null}
                  </td>
                  <td className="small">{delivery.lastAttemptAt ? time(delivery.lastAttemptAt) : "—"}</td>
                  <td className="small">{delivery.nextAttemptAt && delivery.status !== "succeeded" ? time(delivery.nextAttemptAt) : "—"}</td>
                  <td>
                    {enabled ? (
                      <button
                        type="button"
                        className="button ghost small"
                        disabled={busy === delivery.id}
                        aria-label={`Redeliver ${delivery.eventType} ${delivery.eventId}`}
                        onClick={() => void redeliver(delivery)}
                      >
                        Redeliver
                      </button>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : deliveries ? (
        <p className="muted small">No deliveries yet. Send a test event to see one.</p>
      ) : null}
      {nextCursor ? (
        <button type="button" className="button ghost small" onClick={() => void more()}>
          Load older deliveries
        </button>
      ) : null}
    </div>
  );
}
