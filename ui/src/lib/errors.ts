import type { ErrorBody } from './bindings/ErrorBody';

/** A command refused or failed; `body.code` is stable, `body.message` is for people. */
export class ApiError extends Error {
  readonly body: ErrorBody;

  constructor(body: ErrorBody) {
    super(body.message);
    this.name = 'ApiError';
    this.body = body;
  }

  get code(): string {
    return this.body.code;
  }
}

function isErrorBody(value: unknown): value is ErrorBody {
  if (typeof value !== 'object' || value === null) {
    return false;
  }
  const v = value as Record<string, unknown>;
  return typeof v.code === 'string' && typeof v.message === 'string';
}

/** Normalises whatever a rejected `invoke` produced into an `ApiError`. */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) {
    return error;
  }
  if (isErrorBody(error)) {
    return new ApiError({ code: error.code, message: error.message, field: error.field ?? null });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new ApiError({ code: 'internal', message, field: null });
}

/**
 * The message of an `invalid_input` error for display beside its field: the core prefixes it with
 * the field name (`"email: ..."`), which the field's label already says.
 */
export function fieldMessage(body: ErrorBody): string {
  const prefix = body.field ? `${body.field}: ` : '';
  const text = prefix && body.message.startsWith(prefix) ? body.message.slice(prefix.length) : body.message;
  return text.charAt(0).toUpperCase() + text.slice(1);
}
