import { useEffect, useId, useState } from "react";
import { toErrorDetail } from "../api/api-error";
import type { Member, Role } from "../api/platform-schemas";
import { ROLES } from "../api/platform-schemas";
import { navigate } from "../router";
import { useServices } from "../services";
import { loadWorkspace } from "../tenants/load-workspace";
import { canManage, type Workspace } from "../tenants/tenant-store";
import { ConfirmGroup } from "../ui/confirm-group";
import { ErrorMessage } from "../ui/error-message";
import { articleFor, LAST_OWNER_REASON } from "./role-text";

type ErrorDetail = { code: string; message: string };
type Pending = { kind: "role"; member: Member; role: Role } | { kind: "remove"; member: Member };

/** Roles a caller may hand out or take away; the platform enforces the same rules. */
function rolesFor(callerRole: Role | undefined, target: Member): Role[] {
  if (!canManage(callerRole)) return [];
  if (callerRole === "owner") return [...ROLES];
  return target.role === "owner" ? [] : ["admin", "member"];
}

export function MembersSection(props: { tenantId: string; tenantName: string; workspace: Workspace; callerRole: Role | undefined }) {
  const services = useServices();
  const { api } = services;
  const [members, setMembers] = useState<Member[]>();
  const [error, setError] = useState<ErrorDetail>();
  const [pending, setPending] = useState<Pending>();
  const [busy, setBusy] = useState(false);
  const me = props.workspace.user.id;
  // The platform refuses to leave an organisation without an owner (409 last_owner): say so before anyone tries.
  const owners = members?.filter((member) => member.role === "owner").length ?? 0;

  useEffect(() => {
    let current = true;
    api.listMembers().then(
      (list) => current && setMembers(list),
      (thrown: unknown) => current && setError(toErrorDetail(thrown)),
    );
    return () => {
      current = false;
    };
  }, [api, props.tenantId]);

  async function confirm(action: Pending) {
    setBusy(true);
    setError(undefined);
    try {
      if (action.kind === "role") {
        const updated = await api.changeRole(action.member.userId, action.role);
        setMembers((list) => list?.map((member) => (member.userId === updated.userId ? updated : member)));
        if (updated.userId === me) await loadWorkspace(services, props.workspace.user, { quiet: true });
      } else {
        await api.removeMember(action.member.userId);
        setMembers((list) => list?.filter((member) => member.userId !== action.member.userId));
        if (action.member.userId === me) {
          await loadWorkspace(services, props.workspace.user, { quiet: true });
          navigate("/");
        }
      }
      setPending(undefined);
    } catch (thrown) {
      setError(toErrorDetail(thrown));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="card section" aria-labelledby="members-title">
      <h2 id="members-title">Members{members ? ` (${members.length})` : ""}</h2>
      <ErrorMessage error={error} onDismiss={() => setError(undefined)} />
      {members === undefined && !error ? (
        <p className="muted" role="status">
          Loading members…
        </p>
      ) : (
        <ul className="row-list" aria-label="Members">
          {(members ?? []).map((member) => (
            <MemberRow
              key={member.userId}
              member={member}
              self={member.userId === me}
              roles={rolesFor(props.callerRole, member)}
              canRemove={member.userId === me || (canManage(props.callerRole) && (member.role !== "owner" || props.callerRole === "owner"))}
              lastOwner={member.role === "owner" && owners === 1}
              pending={pending?.member.userId === member.userId ? pending : undefined}
              tenantName={props.tenantName}
              busy={busy}
              onPending={setPending}
              onConfirm={(action) => void confirm(action)}
            />
          ))}
        </ul>
      )}
    </section>
  );
}

function MemberRow(props: {
  member: Member;
  self: boolean;
  roles: Role[];
  canRemove: boolean;
  /** The organisation's only owner: neither their role nor their membership may go. */
  lastOwner: boolean;
  pending: Pending | undefined;
  tenantName: string;
  busy: boolean;
  onPending: (pending: Pending | undefined) => void;
  onConfirm: (pending: Pending) => void;
}) {
  const { member, pending } = props;
  const id = useId();
  const who = props.self ? "yourself" : member.email;
  const reasonId = `${id}-last-owner`;
  return (
    <li className="row" data-testid="member-row" data-email={member.email}>
      <div className="row-main">
        <span className="row-title">
          {member.email}
          {props.self ? <span className="muted"> (you)</span> : null}
        </span>
        <span className="muted small">Joined {new Date(member.joinedAt).toLocaleDateString()}</span>
      </div>
      <div className="row-actions">
        {props.roles.length > 0 ? (
          <>
            <label htmlFor={id} className="visually-hidden">
              Role of {member.email}
            </label>
            <select
              id={id}
              className="compact"
              value={pending?.kind === "role" ? pending.role : member.role}
              disabled={props.busy || props.lastOwner}
              aria-describedby={props.lastOwner ? reasonId : undefined}
              title={props.lastOwner ? LAST_OWNER_REASON : undefined}
              onChange={(event) => {
                const role = event.target.value as Role;
                props.onPending(role === member.role ? undefined : { kind: "role", member, role });
              }}
            >
              {props.roles.map((role) => (
                <option key={role} value={role}>
                  {role}
                </option>
              ))}
            </select>
          </>
        ) : (
          <span className={`badge role-${member.role}`}>{member.role}</span>
        )}
        {props.canRemove ? (
          <button
            type="button"
            className="button ghost small danger-text"
            disabled={props.lastOwner}
            aria-describedby={props.lastOwner ? reasonId : undefined}
            title={props.lastOwner ? LAST_OWNER_REASON : undefined}
            aria-expanded={pending?.kind === "remove"}
            onClick={() => props.onPending({ kind: "remove", member })}
          >
            {props.self ? "Leave" : "Remove"}
          </button>
        ) : null}
      </div>
      {props.lastOwner && (props.roles.length > 0 || props.canRemove) ? (
        <p className="muted small last-owner-note" id={reasonId} data-testid="last-owner-note">
          {LAST_OWNER_REASON}
        </p>
      ) : null}
      {pending?.kind === "role" ? (
        <ConfirmGroup
          label={`Change the role of ${member.email}?`}
          confirmLabel="Change role"
          busy={props.busy}
          onConfirm={() => props.onConfirm(pending)}
          onCancel={() => props.onPending(undefined)}
        >
          Make {who} {articleFor(pending.role)} <strong>{pending.role}</strong> instead of {member.role}?
        </ConfirmGroup>
      ) : null}
      {pending?.kind === "remove" ? (
        <ConfirmGroup
          label={props.self ? `Leave ${props.tenantName}?` : `Remove ${member.email}?`}
          confirmLabel={props.self ? "Confirm leave" : "Confirm remove"}
          busy={props.busy}
          onConfirm={() => props.onConfirm(pending)}
          onCancel={() => props.onPending(undefined)}
        >
          {props.self
            ? `Leave ${props.tenantName}? You lose access to its agents and chats until someone invites you again.`
            : `Remove ${member.email} from ${props.tenantName}? They lose access to its agents and chats.`}
        </ConfirmGroup>
      ) : null}
    </li>
  );
}
