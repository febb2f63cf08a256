import { WEBHOOK_DISABLED_BY_MEMBER, type WebhookEndpointView, type WebhookEndpointWithSecret } from "@workforce/protocol";
import { useEffect, useState } from "react";
import { toErrorDetail } from "../api/api-error";
import { useServices } from "../services";
import { useAccess } from "../tenants/use-access";
import { ErrorMessage } from "../ui/error-message";
import { AddWebhookForm } from "./add-webhook-form";
import { WebhookRow } from "./webhook-row";
import { WebhookSecret } from "./webhook-secret";

/**
 * The organisation's outbound webhooks: endpoints that receive its events, signed per Standard
 * Webhooks; their secret once, their state, a test event and the delivery log with Redeliver.
 * Owners and admins only (deliveries name everyone's runs and sessions).
 */
export function WebhooksScreen({ tenantId }: { tenantId: string }) {
  const { api } = useServices();
  const { manages } = useAccess();
  const [endpoints, setEndpoints] = useState<WebhookEndpointView[]>();
  const [limit, setLimit] = useState<number>();
  const [adding, setAdding] = useState(false);
  const [secret, setSecret] = useState<{ created: WebhookEndpointWithSecret; rotated: boolean }>();
  const [error, setError] = useState<{ code: string; message: string }>();

  useEffect(() => {
    if (!manages) return;
    let current = true;
    api.webhooks.list().then(
      (list) => {
        if (!current) return;
        setEndpoints(list.endpoints);
        setLimit(list.limit);
      },
      (thrown: unknown) => current && setError(toErrorDetail(thrown)),
    );
    return () => {
      current = false;
    };
  }, [api, tenantId, manages]);

  const replace = (endpoint: WebhookEndpointView) => setEndpoints((list) => list?.map((other) => (other.id === endpoint.id ? endpoint : other)));
  const disabled = endpoints?.filter((endpoint) => !endpoint.enabled && endpoint.disabledReason !== WEBHOOK_DISABLED_BY_MEMBER) ?? [];

  return (
    <main className="page" id="main" tabIndex={-1}>
      <div className="page-header">
        <div>
          <h1>Webhooks</h1>
          <p className="muted">
            Workforce sends your organisation&apos;s events (runs that end or fail, approvals, schedules, heartbeat alerts, budget thresholds) to these URLs as they
            happen, signed with each endpoint&apos;s secret as <a href="https://www.standardwebhooks.com">Standard Webhooks</a> describe. Failed deliveries are retried
            for about 32 hours.
          </p>
        </div>
      </div>
      {!manages ? (
        <p className="notice" role="note">
          Only owners and admins can see and manage webhooks.
        </p>
      ) : (
        <>
          {disabled.length > 0 ? (
            <p className="notice warning-text" role="status" data-testid="webhooks-disabled-notice">
              {disabled.length === 1 ? "An endpoint was" : `${disabled.length} endpoints were`} disabled because deliveries kept failing. See the reason below.
            </p>
          ) : null}
          <section className="card section" aria-labelledby="new-webhook-title">
            <h2 id="new-webhook-title">New endpoint</h2>
            {adding ? (
              <AddWebhookForm
                onAdded={(created) => {
                  setAdding(false);
                  setSecret({ created, rotated: false });
                  setEndpoints((list) => [...(list ?? []), created.endpoint]);
                }}
                onCancel={() => setAdding(false)}
              />
            ) : (
              <button type="button" className="button" disabled={limit !== undefined && (endpoints?.length ?? 0) >= limit} onClick={() => setAdding(true)}>
                Add endpoint
              </button>
            )}
            {secret ? <WebhookSecret url={secret.created.endpoint.url} secret={secret.created.secret} rotated={secret.rotated} onDone={() => setSecret(undefined)} /> : null}
          </section>
          <ErrorMessage error={error} onDismiss={() => setError(undefined)} />
          <section className="card section" aria-labelledby="webhooks-title">
            <h2 id="webhooks-title">
              Endpoints{endpoints && limit ? ` (${endpoints.length} of ${limit})` : ""}
            </h2>
            {endpoints === undefined && !error ? (
              <p className="muted" role="status">
                Loading endpoints…
              </p>
            ) : endpoints?.length ? (
              <ul className="row-list" aria-label="Webhook endpoints">
                {endpoints.map((endpoint) => (
                  <WebhookRow
                    key={endpoint.id}
                    endpoint={endpoint}
                    onChanged={replace}
                    onSecret={(rotated) => setSecret({ created: rotated, rotated: true })}
                    onDeleted={() => {
                      setEndpoints((list) => list?.filter((other) => other.id !== endpoint.id));
                      if (secret?.created.endpoint.id === endpoint.id) setSecret(undefined);
                    }}
                  />
                ))}
              </ul>
            ) : endpoints ? (
              <p className="muted">No endpoints yet.</p>
            ) : null}
          </section>
        </>
      )}
    </main>
  );
}
