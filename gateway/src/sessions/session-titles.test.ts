import type { SessionSummary, TranscriptLine } from "@workforce/protocol";
import { describe, expect, it } from "vitest";
import { summarizeAppend } from "./session-summary";
import { fallbackTitle, tidyTitle } from "./session-titles";
import { emptyTranscript, foldLine } from "./transcript";

const meta = (title: string, generated: boolean): TranscriptLine => ({ type: "session-meta", id: title, timestamp: "2026-12-03T10:00:00.000Z", title, ...(generated ? { titleSource: "generated" as const } : {}) });
const header = { type: "session" as const, version: 1 as const, sessionId: "s1", key: "k1", agent: "ada", createdAt: "2026-12-03T09:00:00.000Z" };
const summary: SessionSummary = { key: "k1", sessionId: "s1", title: "Who are you?", titleSource: "message", createdAt: header.createdAt, updatedAt: header.createdAt, model: null, inputTokens: 0, outputTokens: 0, messageCount: 2, lastMessagePreview: "" };

describe("generated titles never replace the user's", () => {
  it("in the transcript, whichever order the lines were written in", () => {
    const generatedFirst = emptyTranscript(header);
    for (const line of [meta("Meet Ada", true), meta("Board memo", false), meta("Late generated", true)]) foldLine(generatedFirst, line);
    expect({ title: generatedFirst.title, source: generatedFirst.titleSource }).toEqual({ title: "Board memo", source: "user" });
    const generatedOnly = emptyTranscript(header);
    foldLine(generatedOnly, meta("Meet Ada", true));
    expect({ title: generatedOnly.title, source: generatedOnly.titleSource }).toEqual({ title: "Meet Ada", source: "generated" });
  });

  it("in the registry entry updated from appended lines", () => {
    const named = summarizeAppend(summary, [meta("Meet Ada", true)]);
    expect(named).toMatchObject({ title: "Meet Ada", titleSource: "generated" });
    const renamed = summarizeAppend(named, [meta("Board memo", false)]);
    expect(summarizeAppend(renamed, [meta("Late generated", true)])).toMatchObject({ title: "Board memo", titleSource: "user" });
  });
});

describe("title text", () => {
  it("tidies a model's answer: one line, no quotes or label, no final full stop, cut at a word", () => {
    expect(tidyTitle('Title: "Quarterly revenue forecast."\nMore text')).toBe("Quarterly revenue forecast");
    expect(tidyTitle("**Is Lisbon ready?**")).toBe("Is Lisbon ready?");
    const long = tidyTitle("A very long title that goes on and on about the many things discussed in this chat today");
    expect(long.length).toBeLessThanOrEqual(61);
    expect(long.endsWith("…")).toBe(true);
  });

  it("falls back to the first message's first sentence", () => {
    expect(fallbackTitle("Who are you?")).toBe("Who are you?");
    expect(fallbackTitle("plan the offsite in Lisbon. We are twelve people.")).toBe("Plan the offsite in Lisbon");
    expect(fallbackTitle("   ")).toBe("New session");
  });
});
