import { SLUG_PATTERN, slugify, type Agent, type AgentInput, type AgentUpdate } from "@workforce/protocol";
import { useId, useState, type FormEvent } from "react";
import { ModelPicker } from "./model-picker";

export interface AgentFormValues {
  /** Empty on create: the server derives it from the name. */
  slug: string;
  name: string;
  role: string;
  persona: string;
  instructions: string;
  emoji: string;
  model: string;
}

export function valuesFromAgent(agent: Agent | undefined): AgentFormValues {
  return {
    slug: agent?.slug ?? "",
    name: agent?.name ?? "",
    role: agent?.role ?? "",
    persona: agent?.persona ?? "",
    instructions: agent?.instructions ?? "",
    emoji: agent?.emoji ?? "🤖",
    model: agent?.model ?? "",
  };
}

/** The create body: an empty model means "the gateway's default", an empty slug "derive it from the name". */
export function agentInputFromValues(values: AgentFormValues): AgentInput {
  const model = values.model.trim();
  const slug = values.slug.trim();
  return {
    ...(slug ? { slug } : {}),
    name: values.name.trim(),
    role: values.role.trim(),
    persona: values.persona,
    instructions: values.instructions,
    emoji: values.emoji.trim() || "🤖",
    ...(model ? { model } : {}),
  };
}

/** The edit body: everything but the slug, which never changes; an empty model clears it. */
export function agentUpdateFromValues(values: AgentFormValues): AgentUpdate {
  const input = agentInputFromValues({ ...values, slug: "" });
  return { ...input, model: input.model ?? null };
}

const SLUG_RULE = "A slug is 1 to 64 lowercase letters (a-z), digits and hyphens, starting with a letter or digit, like “ada-lovelace”.";

/** Why a typed slug cannot be used, in words; undefined when it can (or is left empty). */
export function slugProblem(slug: string): string | undefined {
  const trimmed = slug.trim();
  return trimmed === "" || SLUG_PATTERN.test(trimmed) ? undefined : SLUG_RULE;
}

/** Problems the server found with one field, shown on it (e.g. a slug that is taken). */
export type AgentFieldErrors = { slug?: string; model?: string };

/** Shown on the model field when saving is refused with model_unavailable. */
export const MODEL_UNAVAILABLE = "This model is not available on this installation. Choose one from the list.";

/**
 * Create and edit share this form; labels are what browser tests and screen readers find. On
 * create the slug (the agent's id in URLs and folders) may be typed; on edit it is shown read-only.
 */
export function AgentForm(props: {
  mode: "create" | "edit";
  initial: AgentFormValues;
  submitLabel: string;
  busy: boolean;
  onSubmit: (values: AgentFormValues) => Promise<AgentFieldErrors | undefined>;
  onCancel?: () => void;
}) {
  const [values, setValues] = useState(props.initial);
  const [slugChecked, setSlugChecked] = useState(false);
  const [serverSlugError, setServerSlugError] = useState<string>();
  const [serverModelError, setServerModelError] = useState<string>();
  const id = useId();
  const set = (field: keyof AgentFormValues) => (event: { target: { value: string } }) => {
    if (field === "slug") setServerSlugError(undefined);
    setValues((current) => ({ ...current, [field]: event.target.value }));
  };
  const slugError = serverSlugError ?? (slugChecked ? slugProblem(values.slug) : undefined);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setSlugChecked(true);
    if (props.mode === "create" && slugProblem(values.slug)) {
      document.getElementById(`${id}-slug`)?.focus();
      return;
    }
    const fieldErrors = await props.onSubmit(values);
    if (fieldErrors?.slug) {
      setServerSlugError(fieldErrors.slug);
      document.getElementById(`${id}-slug`)?.focus();
    } else if (fieldErrors?.model) {
      setServerModelError(fieldErrors.model);
      document.getElementById(`${id}-model`)?.focus();
    }
  }

  return (
    <form className="form agent-form" onSubmit={(event) => void submit(event)}>
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
      {props.mode === "create" ? (
        <div className="field">
          <label htmlFor={`${id}-slug`}>Slug</label>
          <input
            id={`${id}-slug`}
            value={values.slug}
            onChange={set("slug")}
            onBlur={() => setSlugChecked(true)}
            maxLength={64}
            placeholder={slugify(values.name || "Ada")}
            autoCapitalize="none"
            autoCorrect="off"
            spellCheck={false}
            aria-invalid={slugError ? true : undefined}
            aria-describedby={`${id}-slug-hint${slugError ? ` ${id}-slug-error` : ""}`}
          />
          <p className="hint" id={`${id}-slug-hint`}>
            Optional. The agent's id in chat links and the API (<code>/agents/{values.slug.trim() || slugify(values.name || "Ada")}</code>). Leave
            empty to derive it from the name. It can't be changed later.
          </p>
          {slugError ? (
            <p className="field-error" id={`${id}-slug-error`} role="alert">
              {slugError}
            </p>
          ) : null}
        </div>
      ) : (
        <div className="field">
          <label htmlFor={`${id}-slug`}>Slug</label>
          <input id={`${id}-slug`} value={values.slug} readOnly aria-describedby={`${id}-slug-hint`} />
          <p className="hint" id={`${id}-slug-hint`}>
            The slug names the agent's folders and chat links, so it stays as it is. To use another one, create a new agent.
          </p>
        </div>
      )}
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
        <ModelPicker
          id={`${id}-model`}
          value={values.model}
          onChange={(model) => {
            setServerModelError(undefined);
            setValues((current) => ({ ...current, model }));
          }}
          invalid={serverModelError !== undefined}
          describedBy={`${id}-model-hint${serverModelError ? ` ${id}-model-error` : ""}`}
        />
        <p className="hint" id={`${id}-model-hint`}>
          The models this installation can serve right now. Leave it on the default unless the agent needs another.
        </p>
        {serverModelError ? (
          <p className="field-error" id={`${id}-model-error`} role="alert">
            {serverModelError}
          </p>
        ) : null}
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
