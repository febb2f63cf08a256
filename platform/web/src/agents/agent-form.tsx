import type { Agent, AgentInput } from "@workforce/protocol";
import { useId, useState, type FormEvent } from "react";

export interface AgentFormValues {
  name: string;
  role: string;
  persona: string;
  instructions: string;
  emoji: string;
  model: string;
}

export function valuesFromAgent(agent: Agent | undefined): AgentFormValues {
  return {
    name: agent?.name ?? "",
    role: agent?.role ?? "",
    persona: agent?.persona ?? "",
    instructions: agent?.instructions ?? "",
    emoji: agent?.emoji ?? "🤖",
    model: agent?.model ?? "",
  };
}

/** The create body: an empty model means "the gateway's default". */
export function agentInputFromValues(values: AgentFormValues): AgentInput {
  const model = values.model.trim();
  return {
    name: values.name.trim(),
    role: values.role.trim(),
    persona: values.persona,
    instructions: values.instructions,
    emoji: values.emoji.trim() || "🤖",
    ...(model ? { model } : {}),
  };
}

/** Create and edit share this form; labels are what browser tests and screen readers find. */
export function AgentForm(props: {
  initial: AgentFormValues;
  submitLabel: string;
  busy: boolean;
  onSubmit: (values: AgentFormValues) => void;
  onCancel?: () => void;
}) {
  const [values, setValues] = useState(props.initial);
  const id = useId();
  const set = (field: keyof AgentFormValues) => (event: { target: { value: string } }) =>
    setValues((current) => ({ ...current, [field]: event.target.value }));

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    props.onSubmit(values);
  }

  return (
    <form className="form agent-form" onSubmit={submit}>
      <div className="form-row">
        <div className="field field-emoji">
          <label htmlFor={`${id}-emoji`}>Emoji</label>
          <input id={`${id}-emoji`} value={values.emoji} onChange={set("emoji")} maxLength={16} />
        </div>
        <div className="field grow">
          <label htmlFor={`${id}-name`}>Name</label>
          <input id={`${id}-name`} value={values.name} onChange={set("name")} required maxLength={80} placeholder="Ada" />
        </div>
      </div>
      <div className="field">
        <label htmlFor={`${id}-role`}>Role</label>
        <input id={`${id}-role`} value={values.role} onChange={set("role")} required maxLength={200} placeholder="Research assistant" />
      </div>
      <div className="field">
        <label htmlFor={`${id}-persona`}>Persona</label>
        <textarea
          id={`${id}-persona`}
          value={values.persona}
          onChange={set("persona")}
          rows={3}
          maxLength={8000}
          placeholder="Curious, precise and kind. Explains things with small examples."
        />
      </div>
      <div className="field">
        <label htmlFor={`${id}-instructions`}>Instructions</label>
        <textarea
          id={`${id}-instructions`}
          value={values.instructions}
          onChange={set("instructions")}
          rows={4}
          maxLength={16000}
          placeholder="Answer in short paragraphs. Cite sources when you can."
        />
      </div>
      <div className="field">
        <label htmlFor={`${id}-model`}>Model</label>
        <input
          id={`${id}-model`}
          value={values.model}
          onChange={set("model")}
          maxLength={200}
          placeholder="Default"
          list={`${id}-models`}
          aria-describedby={`${id}-model-hint`}
        />
        <datalist id={`${id}-models`}>
          <option value="offline" />
          <option value="claude-sonnet-4-5" />
          <option value="claude-haiku-4-5" />
          <option value="claude-opus-4-1" />
        </datalist>
        <p className="hint" id={`${id}-model-hint`}>
          Optional. Leave empty for the server's default; "offline", a Claude model id, or "openai:&lt;model&gt;".
        </p>
      </div>
      <div className="button-row">
        <button type="submit" className="button primary" disabled={props.busy} aria-busy={props.busy}>
          {props.submitLabel}
        </button>
        {props.onCancel ? (
          <button type="button" className="button ghost" onClick={props.onCancel}>
            Cancel
          </button>
        ) : null}
      </div>
    </form>
  );
}
