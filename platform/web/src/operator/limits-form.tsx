import { ORGANISATION_LIMIT_FIELDS, type OperatorLimitsView, type OrganisationLimitOverrides, type OrganisationLimitsPatch } from "@workforce/protocol";
import { useEffect, useId, useRef, useState, type FormEvent } from "react";
import { toErrorDetail } from "../api/api-error";
import type { OperatorTenant } from "../api/platform-schemas";
import { useServices } from "../services";
import { ErrorMessage } from "../ui/error-message";
import { formatNumber } from "../usage/format";

type Field = keyof OrganisationLimitOverrides;

const LABELS: Record<Field, { label: string; unit: string; none: string }> = {
  maxConcurrentRuns: { label: "Runs at once", unit: "per gateway", none: "" },
  maxQueuedRuns: { label: "Queued runs", unit: "per gateway", none: "" },
  monthlyTokens: { label: "Tokens per month", unit: "caps the organisation's own budget", none: "no cap" },
  diskMb: { label: "Disk quota (MB)", unit: "0: none", none: "none" },
  requestsPerMinute: { label: "API requests per minute", unit: "per key and per user", none: "no limit" },
  maxStreams: { label: "Concurrent streams", unit: "per key and per user", none: "no limit" },
};

type Draft = Record<Field, string>;

const draftOf = (overrides: OrganisationLimitOverrides): Draft =>
  Object.fromEntries(ORGANISATION_LIMIT_FIELDS.map((field) => [field, overrides[field] === null ? "" : String(overrides[field])])) as Draft;

/** The fields the operator changed: a number, or null where the box was emptied (the default again). */
function patchOf(draft: Draft, overrides: OrganisationLimitOverrides): OrganisationLimitsPatch | { invalid: Field } {
  const patch: Record<string, number | null> = {};
  for (const field of ORGANISATION_LIMIT_FIELDS) {
    const text = draft[field].trim();
    const value = text === "" ? null : Number(text);
    if (value !== null && !Number.isInteger(value)) return { invalid: field };
    if (value !== overrides[field]) patch[field] = value;
  }
  return patch;
}

/**
 * "Limits…": an organisation's plan limits. Each box shows the installation's default as its
 * placeholder; emptying it (or "Default") puts the default back. After saving, it says whether the
 * gateways already hold the change or will get it when they are reachable again.
 */
export function LimitsForm(props: { tenant: OperatorTenant; onSaved: (view: OperatorLimitsView) => void; onClose: () => void }) {
  const { api } = useServices();
  const [view, setView] = useState<OperatorLimitsView>();
  const [draft, setDraft] = useState<Draft>();
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState(false);
  const [error, setError] = useState<{ code: string; message: string }>();
  const heading = useRef<HTMLHeadingElement>(null);
  const id = useId();

  useEffect(() => {
    let current = true;
    api.operatorLimits(props.tenant.id).then(
      (loaded) => {
        if (!current) return;
        setView(loaded);
        setDraft(draftOf(loaded.overrides));
        heading.current?.focus();
      },
      (thrown: unknown) => current && setError(toErrorDetail(thrown)),
    );
    return () => {
      current = false;
    };
  }, [api, props.tenant.id]);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (!view || !draft) return;
    const patch = patchOf(draft, view.overrides);
    if ("invalid" in patch) {
      setError({ code: "validation_failed", message: `${LABELS[patch.invalid].label} must be a whole number, or empty for the default` });
      return;
    }
    if (Object.keys(patch).length === 0) {
      props.onClose();
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      const next = await api.setOperatorLimits(props.tenant.id, patch);
      setView(next);
      setDraft(draftOf(next.overrides));
      setSaved(true);
      props.onSaved(next);
    } catch (thrown) {
      setError(toErrorDetail(thrown));
    } finally {
      setBusy(false);
    }
  }

  const pending = view !== undefined && view.push.pushedVersion < view.push.version;
  return (
    <form
      className="card section limits-form"
      onSubmit={(event) => void submit(event)}
      noValidate
      aria-labelledby={`${id}-title`}
      data-testid="limits-form"
      onKeyDown={(event) => {
        if (event.key === "Escape") props.onClose();
      }}
    >
      <h2 id={`${id}-title`} ref={heading} tabIndex={-1}>
        Limits of {props.tenant.name}
      </h2>
      <ErrorMessage error={error} onDismiss={() => setError(undefined)} />
      {!view || !draft ? (
        error ? null : (
          <p className="muted" role="status">
            Loading limits…
          </p>
        )
      ) : (
        <>
          <p className="hint">Empty means the installation's default, shown in grey. The tokens in force are the smaller of this plan's and the organisation's own budget ({view.monthlyTokens.budget === null ? "none" : formatNumber(view.monthlyTokens.budget)}).</p>
          <div className="limits-grid">
            {ORGANISATION_LIMIT_FIELDS.map((field) => {
              const fallback = view.defaults[field];
              return (
                <div className="field" key={field}>
                  <label htmlFor={`${id}-${field}`}>{LABELS[field].label}</label>
                  <div className="input-row">
                    <input
                      id={`${id}-${field}`}
                      name={field}
                      inputMode="numeric"
                      data-testid={`limit-${field}`}
                      placeholder={fallback === null ? `default: ${LABELS[field].none}` : `default: ${formatNumber(fallback)}`}
                      value={draft[field]}
                      onChange={(event) => setDraft({ ...draft, [field]: event.target.value })}
                      aria-describedby={`${id}-${field}-hint`}
                    />
                    <button type="button" className="button ghost small" disabled={draft[field] === ""} onClick={() => setDraft({ ...draft, [field]: "" })} aria-label={`Reset ${LABELS[field].label} to the default`}>
                      Default
                    </button>
                  </div>
                  <span className="hint small" id={`${id}-${field}-hint`}>
                    {LABELS[field].unit}
                    {view.overrides[field] !== null ? "" : " · using the default"}
                  </span>
                </div>
              );
            })}
          </div>
          {saved ? (
            <p className={pending ? "notice" : "muted"} role="status" data-testid="limits-push-status">
              {pending ? "Saved. The gateway is not reachable right now; the change is applied as soon as it is." : "Saved and in force on the gateways."}
            </p>
          ) : null}
          <div className="button-row">
            <button type="submit" className="button primary small" disabled={busy} aria-busy={busy}>
              Save limits
            </button>
            <button type="button" className="button ghost small" onClick={props.onClose}>
              Close
            </button>
          </div>
        </>
      )}
    </form>
  );
}
