import { z } from "zod";

/**
 * Build-time settings (see the guide's "Platform Web" section). Every one is optional: unset,
 * the app asks the platform that served it (`GET /api/config`), so one build runs anywhere.
 */
export interface WebConfig {
  /** Supabase (or the platform's GoTrue-compatible `/auth/v1`) base URL. */
  supabaseUrl: string;
  /** Supabase anon key; the embedded auth accepts any value. */
  supabaseAnonKey: string;
  /** Base of the platform API, without a trailing slash. */
  apiUrl: string;
}

const PublicConfig = z.object({ supabaseUrl: z.string(), supabaseAnonKey: z.string(), embeddedAuth: z.boolean() });

function nonEmpty(value: unknown): string | undefined {
  return typeof value === "string" && value.trim() !== "" ? value.trim() : undefined;
}

/**
 * VITE_SUPABASE_URL / VITE_SUPABASE_ANON_KEY when the build has them; otherwise the platform's
 * hosted-Supabase settings from `/api/config`; otherwise embedded auth on this origin (which also
 * works behind the Vite dev proxy). Never fails: a missing `/api/config` means embedded.
 */
export async function resolveConfig(fetchImpl: typeof fetch = (input, init) => fetch(input, init)): Promise<WebConfig> {
  const env = import.meta.env;
  const apiUrl = (nonEmpty(env.VITE_API_URL) ?? "/api").replace(/\/+$/, "");
  const supabaseUrl = nonEmpty(env.VITE_SUPABASE_URL);
  if (supabaseUrl) return { apiUrl, supabaseUrl, supabaseAnonKey: nonEmpty(env.VITE_SUPABASE_ANON_KEY) ?? "embedded" };
  const embedded = { apiUrl, supabaseUrl: window.location.origin, supabaseAnonKey: nonEmpty(env.VITE_SUPABASE_ANON_KEY) ?? "embedded" };
  try {
    const response = await fetchImpl(`${apiUrl}/config`, { signal: AbortSignal.timeout(3000), headers: { Accept: "application/json" } });
    if (!response.ok) return embedded;
    const parsed = PublicConfig.safeParse(await response.json());
    if (!parsed.success || parsed.data.embeddedAuth || !parsed.data.supabaseUrl) return embedded;
    return { apiUrl, supabaseUrl: parsed.data.supabaseUrl, supabaseAnonKey: parsed.data.supabaseAnonKey };
  } catch {
    return embedded;
  }
}
