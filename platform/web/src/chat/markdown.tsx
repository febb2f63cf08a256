import { memo } from "react";
import { lazyModule, useLazyModule } from "../ui/lazy-module";

/** The markdown renderer (react-markdown, GFM, sanitising) is its own chunk: the first screen a user sees does not need it. */
export const markdownRenderer = lazyModule(() => import("./markdown-renderer"));

/**
 * A reply's text as markdown (markdown-renderer.tsx). Until the renderer has loaded (a moment, the
 * first time a chat opens) the text shows as it is, line breaks kept, so nothing waits on it.
 */
export const Markdown = memo(function Markdown({ text }: { text: string }) {
  const renderer = useLazyModule(markdownRenderer);
  if (!renderer) return <p className="plain-text">{text}</p>;
  return <renderer.MarkdownRenderer text={text} />;
});
