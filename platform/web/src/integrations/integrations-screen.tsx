import { ComposioSection } from "./composio-section";
import { McpServersSection } from "./mcp-servers-section";
import { ModelKeysSection } from "./model-keys-section";

/** What the organisation's agents can reach: MCP servers and their tools, apps through Composio, its own model keys. */
export function IntegrationsScreen({ tenantId }: { tenantId: string }) {
  return (
    <main className="page" id="main" tabIndex={-1}>
      <div className="page-header">
        <div>
          <h1>Integrations</h1>
          <p className="muted">Tools and credentials your agents may use. Choose which agent may use which tool on the agent&apos;s page.</p>
        </div>
      </div>
      <McpServersSection tenantId={tenantId} />
      <ComposioSection tenantId={tenantId} />
      <ModelKeysSection tenantId={tenantId} />
    </main>
  );
}
