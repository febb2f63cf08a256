/** Apps (Composio) of the organisation (issue 14). Placeholder until its branch lands. */
export function ComposioSection({ tenantId: _tenantId }: { tenantId: string }) {
  return (
    <section className="card" aria-labelledby="composio-section-title">
      <h2 id="composio-section-title">Apps (Composio)</h2>
    </section>
  );
}
