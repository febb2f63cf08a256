import { useSyncExternalStore } from "react";
import { articleFor } from "./role-text";
import { canManage } from "../tenants/tenant-store";
import type { Workspace } from "../tenants/tenant-store";
import { useServices } from "../services";
import { InvitationsSection } from "./invitations-section";
import { MembersSection } from "./members-section";
import { OrganisationSection } from "./organisation-section";

/** The selected organisation: its name, its members and their roles, and invitations. */
export function TeamScreen({ tenantId, workspace }: { tenantId: string; workspace: Workspace }) {
  const { tenants } = useServices();
  useSyncExternalStore(tenants.subscribe, tenants.getState);
  const tenant = workspace.tenants.find((candidate) => candidate.id === tenantId);
  const admin = canManage(tenant?.role);

  return (
    <main className="page" id="main" tabIndex={-1}>
      <div className="page-header">
        <div>
          <h1>Team</h1>
          <p className="muted">
            {tenant ? (
              <>
                People in <strong>{tenant.name}</strong>. You are {articleFor(tenant.role)} <strong>{tenant.role}</strong>.
              </>
            ) : null}
          </p>
        </div>
      </div>
      {!admin ? (
        <p className="notice" role="note">
          Only owners and admins can change roles, remove people or invite new ones. You can see who is here, or leave.
        </p>
      ) : null}
      <MembersSection tenantId={tenantId} tenantName={tenant?.name ?? "this organisation"} workspace={workspace} callerRole={tenant?.role} />
      {admin ? <InvitationsSection tenantId={tenantId} callerRole={tenant?.role} /> : null}
      <OrganisationSection tenant={tenant} workspace={workspace} />
    </main>
  );
}
