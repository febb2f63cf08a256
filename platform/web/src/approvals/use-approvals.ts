import type { ApprovalListStatus, ApprovalView } from "@workforce/protocol";
import { useEffect, useState } from "react";
import { toErrorDetail } from "../api/api-error";
import { useServices } from "../services";
import { useApprovalsLive } from "./approvals-live";

/**
 * The approvals the user may see (`status`), read again whenever the live updates say they
 * changed; `agent` narrows them to one agent's.
 */
export function useApprovals(tenantId: string, status: ApprovalListStatus, agent?: string) {
  const { api, approvals: live } = useServices();
  const { version, pending } = useApprovalsLive(live, tenantId);
  const [list, setList] = useState<ApprovalView[]>();
  const [error, setError] = useState<{ code: string; message: string }>();

  useEffect(() => {
    let current = true;
    api.approvals.list(status).then(
      (loaded) => {
        if (!current) return;
        setError(undefined);
        setList(agent ? loaded.approvals.filter((approval) => approval.agent === agent) : loaded.approvals);
      },
      (thrown: unknown) => current && setError(toErrorDetail(thrown)),
    );
    return () => {
      current = false;
    };
  }, [api, tenantId, status, agent, version]);

  return { approvals: list, error, pending };
}
