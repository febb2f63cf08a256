import { STREAM_PROBE_GAP_MS } from "../../routes/stream-probe";
import { errorText, fail, pass, skip, warn, type CheckResult, type DoctorContext } from "./doctor-check";
import type { DoctorSettings } from "./doctor-settings";
import type { RunningSystem } from "./service-checks";

/**
 * The guide's "SSE disconnects": streams a probe through PUBLIC_URL, the way browsers come in.
 * Its two events are a second apart; when the first only arrives with the last, something on the
 * way (nginx's proxy_buffering, a CDN, compression) holds streams back, and chats look frozen
 * or time out. Measured, not guessed from configuration files.
 */
export async function checkEventStreams(context: DoctorContext, settings: DoctorSettings, system: RunningSystem): Promise<CheckResult> {
  const name = "event streams";
  if (!system.platform) return skip(name, "the platform is not running");
  const url = new URL("/api/health/stream-probe", settings.publicUrl).toString();
  const started = Date.now();
  let firstAt: number | undefined;
  try {
    const response = await context.fetch(url, { headers: { accept: "text/event-stream" }, signal: AbortSignal.timeout(context.timeoutMs + STREAM_PROBE_GAP_MS) });
    if (!response.ok || !response.body || !(response.headers.get("content-type") ?? "").startsWith("text/event-stream")) {
      await response.body?.cancel();
      return warn(name, `PUBLIC_URL (${settings.publicUrl}) does not lead to this platform's stream probe (HTTP ${response.status})`, "set PUBLIC_URL to the address browsers use for this platform, and route /api/ to it");
    }
    const decoder = new TextDecoder();
    const reader: ReadableStreamDefaultReader<Uint8Array> = response.body.getReader();
    let text = "";
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
      if (firstAt === undefined && text.includes("data: first")) firstAt = Date.now();
    }
    const endedAt = Date.now();
    if (firstAt === undefined || !text.includes("data: last")) return warn(name, "the probe stream ended early", "check the proxy's read timeouts for /api/ (at least 60 s)");
    const first = firstAt - started;
    const held = endedAt - firstAt;
    if (first >= STREAM_PROBE_GAP_MS * 0.8 && held < STREAM_PROBE_GAP_MS * 0.3) {
      return fail(
        name,
        `through ${settings.publicUrl} the first event arrived only with the last (${first} ms): a proxy buffers event streams, so chats stall and disconnect`,
        "nginx: in the location for /api/ set proxy_buffering off; proxy_cache off; gzip off; (and proxy_read_timeout 1h); other proxies and CDNs: turn off response buffering/compression for text/event-stream",
      );
    }
    return pass(name, `through ${settings.publicUrl} the first event arrived after ${first} ms, the last ${held} ms later: not buffered`);
  } catch (error) {
    return warn(name, `cannot stream from PUBLIC_URL (${settings.publicUrl}) here: ${errorText(error)}`, "run doctor where PUBLIC_URL resolves, or check DNS and the proxy in front of the platform");
  }
}
