/** The tools one agent may use (web, MCP, Composio) and how: allow or ask. Placeholder until its branch lands. */
export function AgentToolsPanel({ tenantId: _tenantId, agent: _agent }: { tenantId: string; agent: string }) {
  return null;
}
