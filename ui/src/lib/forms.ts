// Core refusals shown where they belong: an `invalid_input` error beside its field, anything else
// at the top of the form. The UI branches on `code`, never on the message.

import { fieldMessage, toApiError } from './errors';

export interface FormErrors {
  /** Messages by form field. */
  fields: Record<string, string>;
  /** A message for the whole form (forbidden, conflict, gate refused…). */
  form: string | null;
  /** The error code, for forms that branch on it. */
  code: string | null;
}

export const NO_ERRORS: FormErrors = { fields: {}, form: null, code: null };

/**
 * Maps an error onto a form. `aliases` maps the core's field names onto the form's when they
 * differ (e.g. `tier` → `risk_tier`).
 */
export function formErrors(
  error: unknown,
  known: readonly string[],
  aliases: Record<string, string> = {},
): FormErrors {
  const body = toApiError(error).body;
  if (body.code === 'invalid_input' && body.field) {
    const field = aliases[body.field] ?? body.field;
    if (known.includes(field)) {
      return { fields: { [field]: fieldMessage(body) }, form: null, code: body.code };
    }
  }
  return { fields: {}, form: body.message, code: body.code };
}

/** Parses a number field; `null` for empty, `NaN` for text that is not a number. */
export function parseNumber(text: string): number | null {
  const t = text.trim();
  if (t === '') {
    return null;
  }
  const n = Number(t);
  return Number.isFinite(n) ? n : Number.NaN;
}

/** Splits a comma- or newline-separated list of emails or words. */
export function splitList(text: string): string[] {
  return text
    .split(/[,\n]/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}
