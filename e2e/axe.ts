/**
 * An accessibility check of the page as it stands, with axe-core (the engine behind Lighthouse's
 * accessibility audit): its script is injected into the page and run over the whole document.
 */
import { createRequire } from "node:module";
import type { Page } from "playwright-core";

const axePath = createRequire(import.meta.url).resolve("axe-core/axe.min.js");

/** The impacts that fail a screen; "minor" and "moderate" ones are only printed. */
const FAILING = new Set(["serious", "critical"]);

interface AxeNode {
  target: unknown[];
  html: string;
  failureSummary?: string;
}
interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  helpUrl: string;
  nodes: AxeNode[];
}

export interface AxeReport {
  /** Serious and critical violations, one readable paragraph each; empty when the page passes. */
  failing: string[];
  /** The others, for the log. */
  other: string[];
}

/** Runs axe-core on the page (the context must bypass the app's CSP, which forbids injected scripts). */
export async function checkAccessibility(page: Page): Promise<AxeReport> {
  if (!(await page.evaluate("typeof window.axe === 'object'"))) await page.addScriptTag({ path: axePath });
  // A string, not a function: the test's compiler may add helpers to a function that the page lacks.
  const violations = await page.evaluate<AxeViolation[]>(`
    window.axe.run(document, { resultTypes: ["violations"] }).then((results) =>
      results.violations.map(({ id, impact, help, helpUrl, nodes }) => ({
        id, impact, help, helpUrl,
        nodes: nodes.map(({ target, html, failureSummary }) => ({ target, html, failureSummary })),
      })))`);
  const report: AxeReport = { failing: [], other: [] };
  for (const violation of violations) {
    (FAILING.has(violation.impact ?? "") ? report.failing : report.other).push(describe(violation));
  }
  return report;
}

function describe(violation: AxeViolation): string {
  const nodes = violation.nodes.slice(0, 5).map((node) => {
    const summary = (node.failureSummary ?? "").split("\n").slice(1).join(" ").trim();
    return `    ${node.target.join(" ")}  ${node.html.slice(0, 160)}${summary ? `\n      ${summary}` : ""}`;
  });
  const more = violation.nodes.length > 5 ? [`    … and ${violation.nodes.length - 5} more`] : [];
  return [`  [${violation.impact}] ${violation.id}: ${violation.help} (${violation.helpUrl})`, ...nodes, ...more].join("\n");
}
