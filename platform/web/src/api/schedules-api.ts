import { AgentFiringList, FiringEnvelope, FiringList, ScheduleEnvelope, ScheduleList, type ScheduleInput, type ScheduleUpdate } from "@workforce/protocol";
import type { z } from "zod";
import type { ApiCalls } from "./composio-api";

/** The platform's schedule routes (docs/platform-api.md, "Schedules"). */
export function schedulesApi({ json, send }: ApiCalls) {
  const schedules = (slug: string) => `/agents/${encodeURIComponent(slug)}/schedules`;
  const one = (slug: string, id: string) => `${schedules(slug)}/${encodeURIComponent(id)}`;
  const page = (cursor?: string) => `?limit=20${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
  const body = (value: unknown) => ({ body: JSON.stringify(value) });
  return {
    list: async (slug: string) => (await json(ScheduleList, schedules(slug))).schedules,
    create: async (slug: string, input: z.input<typeof ScheduleInput>) => (await json(ScheduleEnvelope, schedules(slug), { method: "POST", ...body(input) })).schedule,
    /** Any fields; `{ enabled }` turns it on or off. */
    update: async (slug: string, id: string, update: ScheduleUpdate) => (await json(ScheduleEnvelope, one(slug, id), { method: "PATCH", ...body(update) })).schedule,
    remove: async (slug: string, id: string) => {
      await send(one(slug, id), { method: "DELETE" });
    },
    /** Run now: the firing, pending until the platform starts its run (within seconds). */
    run: async (slug: string, id: string) => (await json(FiringEnvelope, `${one(slug, id)}/run`, { method: "POST" })).firing,
    firings: (slug: string, id: string, cursor?: string) => json(FiringList, `${one(slug, id)}/firings${page(cursor)}`),
    /** Firings of all the agent's schedules, newest first: its recent autonomous runs. */
    agentFirings: (slug: string, cursor?: string) => json(AgentFiringList, `/agents/${encodeURIComponent(slug)}/schedule-firings${page(cursor)}`),
  };
}
