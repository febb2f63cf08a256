import { TENANT_EVENT_TYPES, WEBHOOK_EVENT_LABELS, type TenantEventType, type WebhookEndpointWithSecret } from "@workforce/protocol";
import { useId, useState, type FormEvent } from "react";
import { useServices } from "../services";
import { ErrorMessage } from "../ui/error-message";
import { useAction } from "../ui/use-action";

/** Registers an endpoint: its URL, a description, and the events it receives (all of them, or those ticked). */
export function AddWebhookForm({ onAdded, onCancel }: { onAdded: (created: WebhookEndpointWithSecret) => void; onCancel: () => void }) {
  const { api } = useServices();
  const id = useId();
  const [url, setUrl] = useState("");
  const [description, setDescription] = useState("");
  const [all, setAll] = useState(true);
  const [types, setTypes] = useState<TenantEventType[]>([]);
  const { busy, error, act: run } = useAction();

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    void run(async () => onAdded(await api.webhooks.create({ url: url.trim(), description: description.trim(), eventTypes: all ? null : types })));
  }

  const toggle = (type: TenantEventType, on: boolean) => setTypes((current) => (on ? TENANT_EVENT_TYPES.filter((other) => other === type || current.includes(other)) : current.filter((other) => other !== type)));

  return (
    <form className="form" onSubmit={submit} noValidate aria-label="Add a webhook endpoint">
      <div className="field">
        <label htmlFor={`${id}-url`}>Endpoint URL</label>
        <input id={`${id}-url`} type="url" value={url} maxLength={2000} placeholder="https://example.com/hooks/workforce" aria-describedby={`${id}-url-hint`} onChange={(event) => setUrl(event.target.value)} />
        <p className="hint" id={`${id}-url-hint`}>
          An https:// address that accepts POST requests and answers 2xx within 15 seconds.
        </p>
      </div>
      <div className="field">
        <label htmlFor={`${id}-description`}>Description</label>
        <input id={`${id}-description`} value={description} maxLength={200} placeholder="e.g. Ops alerts" onChange={(event) => setDescription(event.target.value)} />
      </div>
      <fieldset className="scopes">
        <legend>Events</legend>
        <label className="checkbox">
          <input type="checkbox" checked={all} onChange={(event) => setAll(event.target.checked)} />
          All events <span className="muted small">including types added later</span>
        </label>
        {!all
          ? TENANT_EVENT_TYPES.map((type) => (
              <label key={type} className="checkbox">
                <input type="checkbox" checked={types.includes(type)} onChange={(event) => toggle(type, event.target.checked)} />
                <code>{type}</code> <span className="muted small">{WEBHOOK_EVENT_LABELS[type]}</span>
              </label>
            ))
          : null}
      </fieldset>
      <ErrorMessage error={error} />
      <div className="button-row">
        <button type="submit" className="button primary" disabled={busy || (!all && types.length === 0)}>
          Add endpoint
        </button>
        <button type="button" className="button ghost" onClick={onCancel}>
          Cancel
        </button>
        {!all && types.length === 0 ? <span className="small muted">Pick at least one event.</span> : null}
      </div>
    </form>
  );
}
