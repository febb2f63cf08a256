import type { ModelKeyPolicy, ModelKeyView } from "@workforce/protocol";

/** What the operator decided: whether its key covers providers the organisation has none for, and whether keys can be stored at all. */
export function PolicyNote({ policy }: { policy: ModelKeyPolicy }) {
  return (
    <p className="notice" role="note" data-testid="model-keys-policy">
      {policy.platformKeyFallback
        ? "Without a key of your own, agents use the installation's key for that provider."
        : "This installation does not lend its own key: agents of a provider you have no key for cannot run."}
      {policy.available ? "" : " Keys cannot be stored on this installation (its operator has not set up a secret key)."}
    </p>
  );
}

/** Whether a provider has the organisation's key: its hint and base URL, who set it and when; never the key. */
export function ModelKeyStatus({ view }: { view: ModelKeyView }) {
  if (!view.set) {
    return (
      <p className="muted" data-testid="model-key-status">
        No key of your own: runs use the installation&apos;s key, if it lends one.
      </p>
    );
  }
  const by = view.updatedBy?.email ? ` by ${view.updatedBy.email}` : "";
  return (
    <p data-testid="model-key-status">
      Key <code data-testid="model-key-hint">{view.hint}</code>
      {view.baseUrl ? (
        <>
          {" at "}
          <code>{view.baseUrl}</code>
        </>
      ) : null}
      {view.updatedAt ? <span className="muted small">{` · set ${new Date(view.updatedAt).toLocaleString()}${by}`}</span> : null}
    </p>
  );
}
