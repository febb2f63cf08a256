/**
 * Where the platform API is, from VITE_API_URL: unset, `/api` on the page's own origin; a path is
 * used as it is; a URL with no path (`https://api.example.com`, as the deployment guide writes it)
 * means the platform at that origin, whose API is under `/api`. No trailing slash. Pure, so the
 * Vite config (for the built app's CSP) and the app agree.
 */
export function apiBaseUrl(value: string | undefined): string {
  const given = value?.trim() ? value.trim().replace(/\/+$/, "") : "/api";
  if (!/^https?:\/\//i.test(given)) return given || "/api";
  const url = new URL(given);
  return url.pathname === "/" || url.pathname === "" ? `${url.origin}/api` : `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
}

/** The origin of an API base (relative bases are on the page's origin): embedded auth (`/auth/v1`) lives there too. */
export function apiOrigin(apiBase: string, pageOrigin: string): string {
  return new URL(apiBase, pageOrigin).origin;
}
