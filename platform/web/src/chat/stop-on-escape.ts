import { useEffect, useRef } from "react";

/**
 * Esc stops the reply that is streaming, wherever the focus is, unless something nearer used the
 * key first (an open dialog closes, an edit is cancelled: they call preventDefault).
 */
export function useStopOnEscape(streaming: boolean, stop: () => void): void {
  const latest = useRef(stop);
  latest.current = stop;
  useEffect(() => {
    if (!streaming) return;
    const onKeyDown = (event: KeyboardEvent) => {
      if (event.key !== "Escape" || event.defaultPrevented || event.isComposing) return;
      if (document.querySelector("dialog[open]")) return;
      event.preventDefault();
      latest.current();
    };
    window.addEventListener("keydown", onKeyDown);
    return () => window.removeEventListener("keydown", onKeyDown);
  }, [streaming]);
}
