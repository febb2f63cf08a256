/** Strings longer than this (or on several lines) are folded, their start shown. */
const LONG = 160;

/**
 * A tool call's arguments, readable: each top-level field on its own row, strings as text (long
 * ones folded, wrapped when opened), anything else as indented JSON. Cut-short arguments (the
 * platform keeps the first 8,000 characters of their JSON) say so.
 */
export function ApprovalArguments({ input, truncated }: { input: unknown; truncated: boolean }) {
  if (truncated) {
    return (
      <div className="approval-arguments" data-testid="approval-arguments">
        <p className="muted small">The arguments are long: these are their first 8,000 characters.</p>
        <FoldedText text={typeof input === "string" ? input : json(input)} />
      </div>
    );
  }
  const entries = input !== null && typeof input === "object" && !Array.isArray(input) ? Object.entries(input as Record<string, unknown>) : undefined;
  return (
    <div className="approval-arguments" data-testid="approval-arguments">
      {entries ? (
        entries.length === 0 ? (
          <p className="muted small">No arguments.</p>
        ) : (
          <dl>
            {entries.map(([name, value]) => (
              <div key={name} className="approval-argument" data-argument={name}>
                <dt>
                  <code>{name}</code>
                </dt>
                <dd>
                  <Value value={value} />
                </dd>
              </div>
            ))}
          </dl>
        )
      ) : (
        <Value value={input} />
      )}
    </div>
  );
}

function Value({ value }: { value: unknown }) {
  if (typeof value === "string") return <FoldedText text={value} />;
  if (typeof value === "number" || typeof value === "boolean" || value === null) return <code>{String(value)}</code>;
  return <pre className="code-block wrap">{json(value)}</pre>;
}

function FoldedText({ text }: { text: string }) {
  if (text.length <= LONG && !text.includes("\n")) return <span className="plain-text">{text}</span>;
  const firstLine = text.split("\n", 1)[0] ?? "";
  return (
    <details className="folded">
      <summary>
        {firstLine.slice(0, LONG)}… <span className="muted small">({text.length.toLocaleString()} characters)</span>
      </summary>
      <pre className="code-block wrap">{text}</pre>
    </details>
  );
}

function json(value: unknown): string {
  try {
    return JSON.stringify(value, null, 2) ?? String(value);
  } catch {
    return String(value);
  }
}
