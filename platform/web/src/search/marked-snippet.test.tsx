import { SEARCH_MARK_START as START, SEARCH_MARK_STOP as STOP } from "@workforce/protocol";
import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { markedSnippet } from "./marked-snippet";

const render = (snippet: string) => renderToStaticMarkup(<p>{markedSnippet(snippet)}</p>);

describe("search snippets", () => {
  it("marks the matching words and escapes everything else", () => {
    expect(render(`the ${START}zanzibar${STOP} merger <b>closes</b> ${START}Friday${STOP}`)).toBe(
      "<p>the <mark>zanzibar</mark> merger &lt;b&gt;closes&lt;/b&gt; <mark>Friday</mark></p>",
    );
  });

  it("shows plain text as it is, and a mark left open up to the end", () => {
    expect(render("no match here")).toBe("<p>no match here</p>");
    expect(render(`cut ${START}short`)).toBe("<p>cut <mark>short</mark></p>");
  });
});
