import type { Tenant } from "../api/platform-schemas";
import { canManage, type Workspace } from "../tenants/tenant-store";
import { EraseSection } from "./erase-section";
import { ExportSection } from "./export-section";

/** The organisation's data as a whole: export it (owners and admins), delete it (owners). Both work while it is suspended. */
export function DataScreen({ tenant, workspace }: { tenant: Tenant | undefined; workspace: Workspace }) {
  return (
    <main className="page" id="main" tabIndex={-1}>
      <div className="page-header">
        <div>
          <h1>Export &amp; delete</h1>
          <p className="muted">Take all of this organisation's data with you, or delete it for good.</p>
        </div>
      </div>
      {tenant && canManage(tenant.role) ? (
        <>
          <ExportSection tenantId={tenant.id} />
          <EraseSection tenant={tenant} workspace={workspace} />
        </>
      ) : (
        <p className="notice" role="note">
          Only owners and admins can export the organisation's data, and only owners can delete it.
        </p>
      )}
    </main>
  );
}
