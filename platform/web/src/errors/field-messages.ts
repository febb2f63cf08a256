/** One field the server (or the form) found a problem with, in words. */
export interface FieldProblem {
  /** The field's path as the server names it (`email`, `limits.monthlyTokens`). */
  field: string;
  /** A sentence that names the field by its label: "Email is required." */
  message: string;
}

const FIELD_ISSUE = /^([A-Za-z_][\w.[\]-]*): (.+)$/s;

/** `displayName` → "Display name", `limits.monthlyTokens` → "Monthly tokens". */
export function fieldLabel(path: string): string {
  const last = path.split(".").filter((part) => !/^\d+$/.test(part)).pop() ?? path;
  const words = last
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replace(/[_-]+/g, " ")
    .trim()
    .toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** A validator's text ("Too big: expected string to have <=80 characters") as a sentence about the field. */
export function fieldSentence(label: string, issue: string): string {
  const text = issue.trim();
  const atLeast = /(?:>=|at least )(\d+)/.exec(text);
  const atMost = /(?:<=|at most )(\d+)/.exec(text);
  const isString = /string|characters?/i.test(text);
  if (/>=1 characters|is required|must not be empty|received undefined|^required$/i.test(text)) return `${label} is required.`;
  if (atLeast && /too small|at least/i.test(text)) return `${label} must be at least ${atLeast[1]}${isString ? " characters long" : ""}.`;
  if (atMost && /too big|at most/i.test(text)) return `${label} must be at most ${atMost[1]}${isString ? " characters long" : ""}.`;
  if (/email/i.test(text)) return `${label} must be a valid email address.`;
  if (/url|uri/i.test(text)) return `${label} must be a web address (https://…).`;
  if (/invalid option|expected one of/i.test(text)) return `${label} must be one of the offered choices.`;
  if (/whole number|expected int/i.test(text)) return `${label} must be a whole number.`;
  if (/expected number|not a number|NaN/i.test(text)) return `${label} must be a number.`;
  return `${label} is not valid.`;
}

/**
 * The field problems in a `validation_failed` message (`describeZodError`'s "email: is required;
 * title: Too small: …"), each as a readable sentence. Validator wording never reaches the user;
 * a message that names no field gives no problems (the code's general sentence is shown instead).
 */
export function fieldProblems(message: string): FieldProblem[] {
  const problems: FieldProblem[] = [];
  for (const part of message.split("; ")) {
    const match = FIELD_ISSUE.exec(part.trim());
    if (!match?.[1] || !match[2]) continue;
    problems.push({ field: match[1], message: fieldSentence(fieldLabel(match[1]), match[2]) });
  }
  return problems;
}
