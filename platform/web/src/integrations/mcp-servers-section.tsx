/** MCP servers of the organisation (issue 14). Placeholder until its branch lands. */
export function McpServersSection({ tenantId: _tenantId }: { tenantId: string }) {
  return (
    <section className="card" aria-labelledby="mcp-servers-section-title">
      <h2 id="mcp-servers-section-title">MCP servers</h2>
    </section>
  );
}
