import { z } from "zod";
import { apiBaseUrl, apiOrigin } from "./api-location";

/** Who may create an account on the installation (`WORKFORCE_SIGNUP`, told by `/api/config`). */
export const SignupMode = z.enum(["open", "invite", "domains", "closed"]);
export type SignupMode = z.infer<typeof SignupMode>;

/**
 * Build-time settings (see the guide's "Platform Web" section). Every one is optional: unset,
 * the app asks the platform that served it (`GET /api/config`), so one build runs anywhere.
 */
export interface WebConfig {
  /** Supabase (or the platform's GoTrue-compatible `/auth/v1`) base URL. */
  supabaseUrl: string;
  /** Supabase's anon or publishable key; for the embedded auth, the publishable key `/api/config` gives. */
  supabaseAnonKey: string;
  /** Base of the platform API, without a trailing slash. */
  apiUrl: string;
  /** The sign-up policy; undefined when the platform could not be asked (sign-up is then offered and the server decides). */
  signup: SignupMode | undefined;
  /** The installation has no account yet: whoever signs up now becomes its operator, whatever the policy. */
  firstAccount: boolean;
}

const PublicConfig = z.object({
  supabaseUrl: z.string(),
  supabaseAnonKey: z.string(),
  embeddedAuth: z.boolean(),
  // Optional: an older platform does not send it.
  signup: SignupMode.optional(),
  firstAccount: z.boolean().optional(),
});

function nonEmpty(value: unknown): string | undefined {
  return typeof value === "string" && value.trim() !== "" ? value.trim() : undefined;
}

/**
 * supabase-js refuses an empty key. The embedded auth takes requests without a valid one, so when
 * `/api/config` could not be read (the platform is down; nothing would work anyway) this stands in.
 */
const UNKNOWN_PUBLISHABLE_KEY = "sb_publishable_unknown";

/**
 * VITE_SUPABASE_URL / VITE_SUPABASE_ANON_KEY when the build has them; otherwise the platform's
 * hosted-Supabase settings from `/api/config`; otherwise the embedded auth on the API's origin
 * (this origin for `/api`, which also works behind the Vite dev proxy; the platform's for a build
 * with VITE_API_URL on a CDN). The sign-up policy always comes from `/api/config`. Never fails: a
 * missing `/api/config` means embedded, with sign-up left to the server to refuse.
 */
export async function resolveConfig(fetchImpl: typeof fetch = (input, init) => fetch(input, init)): Promise<WebConfig> {
  const env = import.meta.env;
  const apiUrl = apiBaseUrl(env.VITE_API_URL);
  const builtIn = nonEmpty(env.VITE_SUPABASE_URL);
  const server = await fetchPublicConfig(fetchImpl, apiUrl);
  const anonKey = nonEmpty(env.VITE_SUPABASE_ANON_KEY) ?? nonEmpty(server?.supabaseAnonKey) ?? UNKNOWN_PUBLISHABLE_KEY;
  const signup = server?.signup;
  const firstAccount = server?.firstAccount ?? false;
  if (builtIn) return { apiUrl, supabaseUrl: builtIn, supabaseAnonKey: anonKey, signup, firstAccount };
  if (server && !server.embeddedAuth && server.supabaseUrl) {
    return { apiUrl, supabaseUrl: server.supabaseUrl, supabaseAnonKey: anonKey, signup, firstAccount };
  }
  return { apiUrl, supabaseUrl: apiOrigin(apiUrl, window.location.origin), supabaseAnonKey: anonKey, signup, firstAccount };
}

async function fetchPublicConfig(fetchImpl: typeof fetch, apiUrl: string): Promise<z.infer<typeof PublicConfig> | undefined> {
  try {
    const response = await fetchImpl(`${apiUrl}/config`, { signal: AbortSignal.timeout(3000), headers: { Accept: "application/json" } });
    if (!response.ok) return undefined;
    const parsed = PublicConfig.safeParse(await response.json());
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
