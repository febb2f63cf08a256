import { useMemo, type ReactNode } from "react";
import { CopyButton } from "../ui/copy-button";
import { lazyModule, useLazyModule } from "../ui/lazy-module";

/**
 * The highlighter (lowlight: highlight.js's grammars as a syntax tree) is the heaviest part of the
 * chat, so it lives in its own chunk, fetched the first time a reply shows a code block.
 */
export const highlighter = lazyModule(() => import("./highlight"));

/** A fenced code block: highlighted once the highlighter has loaded (plain until then, or if it fails), with a copy button. */
export function CodeBlock({ language, code }: { language: string; code: string }) {
  // Plain text until it has loaded, or if it cannot be fetched.
  const module = useLazyModule(highlighter);
  // A streaming reply re-renders every block on each delta; only the growing one is highlighted again.
  const highlighted: ReactNode = useMemo(() => module?.highlight(code, language), [module, code, language]);

  return (
    <div className="code-frame" data-testid="code-block">
      <div className="code-toolbar">
        <span className="code-language">{language || "text"}</span>
        <CopyButton text={code} label="Copy code" className="button ghost small" />
      </div>
      {/* Focusable: a long line scrolls sideways, and a keyboard must be able to scroll it too. */}
      <pre className="code-block" tabIndex={0} data-language={language || undefined} data-highlighted={highlighted ? "" : undefined}>
        <code className={language ? `hljs language-${language}` : "hljs"}>{highlighted ?? code}</code>
      </pre>
    </div>
  );
}
