import { DEFAULT_HEARTBEAT_ACK_MAX_CHARS, HEARTBEAT_TOKEN } from "@workforce/protocol";

/** What a heartbeat's reply amounts to: an acknowledgement (nothing needs attention), or an alert with its text. */
export interface HeartbeatReply {
  ack: boolean;
  /** The reply without the token at its edges (the whole reply when it carried none). */
  text: string;
}

/** Emphasis, code marks and HTML tags around the token ("**HEARTBEAT_OK**", "<b>HEARTBEAT_OK</b>") do not hide it. */
const withoutMarkup = (text: string): string =>
  text
    .replace(/<[^>]*>/g, " ")
    .replace(/&nbsp;/gi, " ")
    .trim()
    .replace(/^[*`~_]+/, "")
    .replace(/[*`~_]+$/, "")
    .trim();

/** The token at the end, followed by at most a little punctuation ("HEARTBEAT_OK.", "HEARTBEAT_OK!!"). */
const TOKEN_AT_END = new RegExp(`${HEARTBEAT_TOKEN}[^\\w]{0,4}$`);

/**
 * Reads a heartbeat's reply the way the convention does: HEARTBEAT_OK counts only at the start or
 * the end of the reply (in the middle it is ordinary text); it is stripped there, and the reply is
 * an acknowledgement when what is left is at most `ackMaxChars` characters. An empty reply is one
 * too (the agent had nothing to say).
 */
export function readHeartbeatReply(raw: string, ackMaxChars = DEFAULT_HEARTBEAT_ACK_MAX_CHARS): HeartbeatReply {
  const trimmed = raw.trim();
  if (trimmed === "") return { ack: true, text: "" };
  if (!trimmed.includes(HEARTBEAT_TOKEN)) return { ack: false, text: trimmed };
  let text = withoutMarkup(trimmed);
  let stripped = false;
  for (;;) {
    if (text.startsWith(HEARTBEAT_TOKEN)) {
      // With the punctuation right after it ("HEARTBEAT_OK.", "HEARTBEAT_OK: all quiet").
      text = withoutMarkup(text.slice(HEARTBEAT_TOKEN.length).replace(/^[^\w\s]{1,4}(?=\s|$)/, ""));
    } else if (TOKEN_AT_END.test(text)) {
      text = withoutMarkup(text.slice(0, text.lastIndexOf(HEARTBEAT_TOKEN)));
    } else {
      break;
    }
    stripped = true;
  }
  if (!stripped) return { ack: false, text: trimmed };
  return { ack: text.replace(/\s+/g, " ").length <= ackMaxChars, text };
}
