import type { AvailableModel, ModelCatalogue, ModelSource } from "@workforce/protocol";
import { useEffect, useState } from "react";
import { useServices } from "../services";

/** The select's value for "type a model id": a provider whose models cannot be listed (the organisation's own key). */
const ANOTHER = "\u0000another";

const GROUPS: Record<ModelSource, string> = { anthropic: "Claude (Anthropic)", "openai-compatible": "OpenAI-compatible", offline: "Built in" };

function optionLabel(model: AvailableModel): string {
  return model.label === model.id ? model.id : `${model.label} (${model.id})`;
}

/**
 * The agent's model, chosen from what the installation reports as available (`GET /api/models`),
 * so nobody types a model that does not exist. Where a provider's models cannot be listed (the
 * organisation's own key, or its list unreadable right now) a model id may be typed as well.
 */
export function ModelPicker({ id, value, onChange, describedBy, invalid }: { id: string; value: string; onChange: (model: string) => void; describedBy: string; invalid: boolean }) {
  const { api } = useServices();
  const [catalogue, setCatalogue] = useState<ModelCatalogue | "failed">();
  const [typing, setTyping] = useState(false);

  useEffect(() => {
    let current = true;
    api.listModels().then(
      (loaded) => current && setCatalogue(loaded),
      () => current && setCatalogue("failed"),
    );
    return () => {
      current = false;
    };
  }, [api]);

  if (catalogue === undefined) {
    return (
      <select id={id} disabled aria-describedby={describedBy} aria-busy="true">
        <option>Loading the available models…</option>
      </select>
    );
  }
  // Without the list the id is typed; saving still checks it.
  if (catalogue === "failed") {
    return <input id={id} value={value} onChange={(event) => onChange(event.target.value)} maxLength={200} placeholder="Default" aria-describedby={describedBy} aria-invalid={invalid || undefined} />;
  }

  const listed = value === "" || catalogue.models.some((model) => model.id === value);
  const typable = catalogue.unverified.length > 0 || (catalogue.ownKeys?.length ?? 0) > 0;
  const sources = [...new Set(catalogue.models.map((model) => model.provider))];
  const defaultModel = catalogue.models.find((model) => model.id === catalogue.default);
  return (
    <>
      <select
        id={id}
        value={typing ? ANOTHER : value}
        onChange={(event) => {
          const chosen = event.target.value;
          setTyping(chosen === ANOTHER);
          if (chosen !== ANOTHER) onChange(chosen);
        }}
        aria-describedby={describedBy}
        aria-invalid={invalid || undefined}
      >
        <option value="">Default: {defaultModel ? optionLabel(defaultModel) : catalogue.default}</option>
        {sources.map((source) => (
          <optgroup key={source} label={GROUPS[source]}>
            {catalogue.models
              .filter((model) => model.provider === source)
              .map((model) => (
                <option key={model.id} value={model.id}>
                  {optionLabel(model)}
                </option>
              ))}
          </optgroup>
        ))}
        {!listed && !typing ? <option value={value}>{value} (not available here)</option> : null}
        {typable ? <option value={ANOTHER}>Another model (type its id)…</option> : null}
      </select>
      {typing ? (
        <input
          className="model-id-input"
          aria-label="Model id"
          value={value}
          onChange={(event) => onChange(event.target.value)}
          maxLength={200}
          placeholder="claude-… or openai:…"
          autoCapitalize="none"
          autoCorrect="off"
          spellCheck={false}
        />
      ) : null}
    </>
  );
}
