import type { RootContent } from "hast";
import { common, createLowlight } from "lowlight";
import { createElement, type ReactNode } from "react";

const lowlight = createLowlight(common);

/**
 * Highlights `code` as React elements (spans with highlight.js class names, never HTML strings).
 * Only a named language is highlighted: guessing one on every delta of a streaming reply costs
 * too much, and a wrong guess reads worse than plain text. Undefined when there is nothing to do.
 */
export function highlight(code: string, language: string): ReactNode {
  const name = language.toLowerCase();
  if (!name || !lowlight.registered(name)) return undefined;
  return toReact(lowlight.highlight(name, code).children);
}

/** lowlight's tree holds only text and spans with classes. */
function toReact(nodes: readonly RootContent[]): ReactNode[] {
  return nodes.map((node, index) => {
    if (node.type === "text") return node.value;
    if (node.type !== "element") return null;
    const classes = node.properties.className;
    const className = Array.isArray(classes) ? classes.join(" ") : undefined;
    return createElement("span", { key: index, className }, ...toReact(node.children));
  });
}
