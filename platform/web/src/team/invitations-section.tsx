import { useEffect, useId, useState, type FormEvent } from "react";
import { toErrorDetail } from "../api/api-error";
import type { CreatedInvitation, Invitation, Role } from "../api/platform-schemas";
import { useServices } from "../services";
import { ConfirmGroup } from "../ui/confirm-group";
import { emailProblem } from "../errors/limits";
import { ErrorMessage } from "../ui/error-message";

type ErrorDetail = { code?: string; message: string };

/** Invite by email with a role (the platform mails the link), list and revoke pending ones. Owners/admins only. */
export function InvitationsSection({ tenantId, callerRole }: { tenantId: string; callerRole: Role | undefined }) {
  const { api } = useServices();
  const [invitations, setInvitations] = useState<Invitation[]>();
  const [created, setCreated] = useState<CreatedInvitation>();
  const [error, setError] = useState<ErrorDetail>();

  useEffect(() => {
    let current = true;
    api.listInvitations().then(
      (list) => current && setInvitations(list),
      (thrown: unknown) => current && setError(toErrorDetail(thrown)),
    );
    return () => {
      current = false;
    };
  }, [api, tenantId]);

  return (
    <section className="card section" aria-labelledby="invitations-title">
      <h2 id="invitations-title">Invitations</h2>
      <InviteForm
        callerRole={callerRole}
        onCreated={(result) => {
          setCreated(result);
          setInvitations((list) => [result.invitation, ...(list ?? []).filter((other) => other.email !== result.invitation.email)]);
        }}
      />
      {created ? <InvitationSent created={created} onDone={() => setCreated(undefined)} /> : null}
      <ErrorMessage error={error} onDismiss={() => setError(undefined)} />
      <h3 className="subheading">Pending</h3>
      {invitations === undefined && !error ? (
        <p className="muted" role="status">
          Loading invitations…
        </p>
      ) : invitations?.length === 0 ? (
        <p className="muted">No pending invitations.</p>
      ) : (
        <ul className="row-list" aria-label="Pending invitations">
          {(invitations ?? []).map((invitation) => (
            <InvitationRow
              key={invitation.id}
              invitation={invitation}
              onRevoked={() => {
                setInvitations((list) => list?.filter((other) => other.id !== invitation.id));
                if (created?.invitation.id === invitation.id) setCreated(undefined);
              }}
            />
          ))}
        </ul>
      )}
    </section>
  );
}

function InviteForm({ callerRole, onCreated }: { callerRole: Role | undefined; onCreated: (created: CreatedInvitation) => void }) {
  const { api } = useServices();
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<Role>("member");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ErrorDetail>();
  const id = useId();
  const roles: Role[] = callerRole === "owner" ? ["member", "admin", "owner"] : ["member", "admin"];

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    // Checked before sending, in words (the server's check is the same, but reads as a validator's).
    const problem = emailProblem(email);
    if (problem) return setError({ message: problem });
    setBusy(true);
    setError(undefined);
    try {
      onCreated(await api.invite(email.trim(), role));
      setEmail("");
      setRole("member");
    } catch (thrown) {
      setError(toErrorDetail(thrown));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="inline-form" onSubmit={(event) => void submit(event)} noValidate aria-label="Invite someone">
      <div className="field grow">
        <label htmlFor={`${id}-email`}>Email address</label>
        <input
          id={`${id}-email`}
          type="email"
          inputMode="email"
          autoComplete="off"
          placeholder="colleague@example.com"
          value={email}
          onChange={(event) => setEmail(event.target.value)}
        />
      </div>
      <div className="field">
        <label htmlFor={`${id}-role`}>Invite as</label>
        <select id={`${id}-role`} value={role} onChange={(event) => setRole(event.target.value as Role)}>
          {roles.map((option) => (
            <option key={option} value={option}>
              {option}
            </option>
          ))}
        </select>
      </div>
      <button type="submit" className="button primary" disabled={busy}>
        Invite
      </button>
      <ErrorMessage error={error} />
    </form>
  );
}

/**
 * Where the invitation went. The link is mailed to the invited address only; without SMTP the
 * mail waits in the server's outbox, which only the server's own machine can open.
 */
function InvitationSent({ created, onDone }: { created: CreatedInvitation; onDone: () => void }) {
  return (
    <div className="notice sent-notice" data-testid="invitation-sent" role="status">
      <p>
        <strong>Invitation sent to {created.invitation.email}.</strong> The link in it works once, only for that address, until{" "}
        {new Date(created.invitation.expiresAt).toLocaleDateString()}.
      </p>
      {created.delivery === "outbox" ? (
        <p>
          Mail is not configured on this server: the message is in the outbox. The <a href="/outbox">outbox page</a> opens only in a browser on the
          server's own machine; elsewhere, set <code>SMTP_URL</code> so invitations are emailed.
        </p>
      ) : null}
      <button type="button" className="button ghost small" onClick={onDone}>
        Done
      </button>
    </div>
  );
}

function InvitationRow({ invitation, onRevoked }: { invitation: Invitation; onRevoked: () => void }) {
  const { api } = useServices();
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ErrorDetail>();

  async function revoke() {
    setBusy(true);
    setError(undefined);
    try {
      await api.revokeInvitation(invitation.id);
      onRevoked();
    } catch (thrown) {
      setError(toErrorDetail(thrown));
      setBusy(false);
    }
  }

  return (
    <li className="row" data-testid="invitation-row" data-email={invitation.email}>
      <div className="row-main">
        <span className="row-title">{invitation.email}</span>
        <span className="muted small">Expires {new Date(invitation.expiresAt).toLocaleDateString()}</span>
      </div>
      <div className="row-actions">
        <span className={`badge role-${invitation.role}`}>{invitation.role}</span>
        <button type="button" className="button ghost small danger-text" onClick={() => setConfirming(true)} aria-expanded={confirming}>
          Revoke
        </button>
      </div>
      {confirming ? (
        <ConfirmGroup
          label={`Revoke the invitation for ${invitation.email}?`}
          confirmLabel="Confirm revoke"
          busy={busy}
          onConfirm={() => void revoke()}
          onCancel={() => setConfirming(false)}
        >
          Revoke the invitation for {invitation.email}? Its link stops working.
        </ConfirmGroup>
      ) : null}
      <ErrorMessage error={error} />
    </li>
  );
}
