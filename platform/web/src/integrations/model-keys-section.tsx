/** Model keys of the organisation (issue 14). Placeholder until its branch lands. */
export function ModelKeysSection({ tenantId: _tenantId }: { tenantId: string }) {
  return (
    <section className="card" aria-labelledby="model-keys-section-title">
      <h2 id="model-keys-section-title">Model keys</h2>
    </section>
  );
}
