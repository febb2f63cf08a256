import { useEffect, useState } from "react";

/**
 * Copies `text` to the clipboard and says so in a live region. Without clipboard access (an
 * insecure origin, a denied permission) it says so too; the text stays selectable beside it.
 */
export function CopyButton({ text, label = "Copy", className = "button small" }: { text: string; label?: string; className?: string }) {
  const [state, setState] = useState<"idle" | "copied" | "failed">("idle");

  useEffect(() => {
    if (state === "idle") return;
    const timer = setTimeout(() => setState("idle"), 2500);
    return () => clearTimeout(timer);
  }, [state]);

  async function copy() {
    try {
      await navigator.clipboard.writeText(text);
      setState("copied");
    } catch {
      setState("failed");
    }
  }

  return (
    <>
      <button type="button" className={className} onClick={() => void copy()}>
        {state === "copied" ? "Copied" : label}
      </button>
      <span className="visually-hidden" role="status">
        {state === "copied" ? "Copied to the clipboard" : state === "failed" ? "Could not copy; select the text and copy it yourself" : ""}
      </span>
      {state === "failed" ? <span className="small muted">Select the text and copy it yourself.</span> : null}
    </>
  );
}
