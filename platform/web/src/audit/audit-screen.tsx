import { useEffect, useState } from "react";
import { toErrorDetail } from "../api/api-error";
import type { AuditEntry, AuditFilter } from "../api/governance-api";
import type { Member, Role } from "../api/platform-schemas";
import { useServices } from "../services";
import { canManage } from "../tenants/tenant-store";
import { ErrorMessage } from "../ui/error-message";
import { AuditFilters, dayStart, NO_FILTER, type AuditFilterForm } from "./audit-filters";
import { AuditTable } from "./audit-table";

const PAGE_SIZE = 50;

function toQuery(form: AuditFilterForm): AuditFilter {
  return { action: form.action || undefined, actor: form.actor || undefined, since: dayStart(form.from), until: dayStart(form.to, true) };
}

type ErrorDetail = { code: string; message: string };

/** The organisation's audit log (owners and admins): filtered by action, person and days, newest first, a page at a time. */
export function AuditScreen({ tenantId, role }: { tenantId: string; role: Role | undefined }) {
  const manager = canManage(role);
  return (
    <main className="page" id="main" tabIndex={-1}>
      <div className="page-header">
        <div>
          <h1>Audit log</h1>
          <p className="muted">Every change in this organisation: who made it, when, and to what.</p>
        </div>
      </div>
      {manager ? (
        <AuditLog tenantId={tenantId} />
      ) : (
        <p className="notice" role="note">
          Only owners and admins can read the audit log.
        </p>
      )}
    </main>
  );
}

function AuditLog({ tenantId }: { tenantId: string }) {
  const { api } = useServices();
  const [form, setForm] = useState<AuditFilterForm>(NO_FILTER);
  const [members, setMembers] = useState<Member[]>([]);
  const [entries, setEntries] = useState<AuditEntry[]>();
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<ErrorDetail>();
  const [version, setVersion] = useState(0);

  useEffect(() => {
    let current = true;
    api.listMembers().then(
      (list) => current && setMembers(list),
      () => undefined,
    );
    return () => {
      current = false;
    };
  }, [api, tenantId]);

  // A new filter starts again from the newest entry.
  useEffect(() => {
    let current = true;
    setLoading(true);
    setError(undefined);
    setEntries(undefined);
    api.governance.audit(toQuery(form), undefined, PAGE_SIZE).then(
      (page) => {
        if (!current) return;
        setEntries(page.entries);
        setCursor(page.nextCursor);
        setLoading(false);
      },
      (thrown: unknown) => {
        if (!current) return;
        setError(toErrorDetail(thrown));
        setLoading(false);
      },
    );
    return () => {
      current = false;
    };
  }, [api, tenantId, form, version]);

  async function more() {
    if (!cursor) return;
    setLoading(true);
    setError(undefined);
    try {
      const page = await api.governance.audit(toQuery(form), cursor, PAGE_SIZE);
      setEntries((list) => [...(list ?? []), ...page.entries]);
      setCursor(page.nextCursor);
    } catch (thrown) {
      setError(toErrorDetail(thrown));
    } finally {
      setLoading(false);
    }
  }

  const filtered = Object.values(form).some(Boolean);
  return (
    <section className="card section" aria-labelledby="audit-entries-title">
      <h2 id="audit-entries-title" className="visually-hidden">
        Entries
      </h2>
      <AuditFilters value={form} members={members} onChange={setForm} />
      {error ? (
        <ErrorMessage error={error}>
          <button type="button" className="button small" onClick={() => (entries ? void more() : setVersion((value) => value + 1))}>
            Try again
          </button>
        </ErrorMessage>
      ) : null}
      {entries === undefined && loading ? (
        <p className="muted" role="status">
          Loading the audit log…
        </p>
      ) : null}
      {entries?.length === 0 ? (
        <p className="muted" data-testid="audit-empty">
          {filtered ? "No entries match these filters." : "Nothing has been recorded yet."}
        </p>
      ) : null}
      {entries && entries.length > 0 ? (
        <>
          <AuditTable entries={entries} />
          <div className="audit-footer">
            <span className="muted small" role="status" data-testid="audit-count">
              {entries.length === 1 ? "1 entry" : `${entries.length} entries`}
              {cursor ? ", newest first" : ""}
            </span>
            {cursor ? (
              <button type="button" className="button" disabled={loading} aria-busy={loading} onClick={() => void more()}>
                Show older entries
              </button>
            ) : null}
          </div>
        </>
      ) : null}
    </section>
  );
}
