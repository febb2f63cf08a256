import { SEARCH_MARK_START, SEARCH_MARK_STOP } from "@workforce/protocol";
import type { ReactNode } from "react";

/** A snippet with its matching words marked (the API marks them with control characters, never HTML). */
export function markedSnippet(snippet: string): ReactNode[] {
  const parts: ReactNode[] = [];
  let rest = snippet;
  while (rest) {
    const start = rest.indexOf(SEARCH_MARK_START);
    if (start < 0) {
      parts.push(rest);
      break;
    }
    if (start > 0) parts.push(rest.slice(0, start));
    const stop = rest.indexOf(SEARCH_MARK_STOP, start + 1);
    const word = rest.slice(start + 1, stop < 0 ? undefined : stop);
    parts.push(<mark key={parts.length}>{word}</mark>);
    rest = stop < 0 ? "" : rest.slice(stop + 1);
  }
  return parts;
}
