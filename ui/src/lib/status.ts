// One chip style per state, the same everywhere (UI.md): lists, pages, charts. Chips carry words;
// the colour only repeats what the word says.

import type { ApprovalStatus } from './bindings/ApprovalStatus';
import type { ExceptionState } from './bindings/ExceptionState';

export type Tone = 'danger' | 'warning' | 'info' | 'accent' | 'success' | 'neutral';

export interface Chip {
  label: string;
  tone: Tone;
  /** CSS class: `chip chip-<tone>`. */
  className: string;
}

const EXCEPTION_TONES: Record<ExceptionState, Tone> = {
  opened: 'danger',
  validating: 'warning',
  confirmed: 'danger',
  escalated: 'danger',
  recovered: 'info',
  decided: 'accent',
  closed: 'success',
  dismissed: 'neutral',
};

const APPROVAL_TONES: Record<ApprovalStatus, Tone> = {
  approved: 'success',
  pending: 'warning',
  lapsed: 'danger',
  retired: 'neutral',
};

const OTHER_TONES: Record<string, Tone> = {
  // thresholds
  proposed: 'warning',
  superseded: 'neutral',
  withdrawn: 'neutral',
  // model lifecycle
  active: 'success',
  paused: 'warning',
  'rolled-back': 'warning',
  // members, NHIs
  offboarded: 'neutral',
  revoked: 'neutral',
  // measurement evaluations
  ok: 'success',
  warn: 'warning',
  breach: 'danger',
  none: 'neutral',
  // approvals (record status)
  ended: 'neutral',
};

function chip(label: string, tone: Tone): Chip {
  return { label, tone, className: `chip chip-${tone}` };
}

export function exceptionChip(state: ExceptionState): Chip {
  return chip(state, EXCEPTION_TONES[state] ?? 'neutral');
}

export function approvalChip(status: ApprovalStatus): Chip {
  return chip(status, APPROVAL_TONES[status] ?? 'neutral');
}

/** Any other status word (threshold, model, member, NHI, evaluation). */
export function statusChip(word: string): Chip {
  const tone =
    (EXCEPTION_TONES as Record<string, Tone>)[word] ??
    (APPROVAL_TONES as Record<string, Tone>)[word] ??
    OTHER_TONES[word] ??
    'neutral';
  return chip(word, tone);
}

/** Exception states that still need someone. */
export const OPEN_STATES: readonly ExceptionState[] = [
  'opened',
  'validating',
  'confirmed',
  'escalated',
  'recovered',
  'decided',
];

export function isOpen(state: ExceptionState): boolean {
  return OPEN_STATES.includes(state);
}

/** The dispositions, in the words of the core's `Disposition::describe`. */
export const DISPOSITIONS: readonly { value: string; label: string }[] = [
  { value: 'retrain', label: 'Retrain the model' },
  { value: 'retriage', label: 'Retriage (re-examine the signal and data)' },
  { value: 'rollback', label: 'Roll back to the previous version' },
  { value: 'retire', label: 'Retire the model' },
  { value: 'keep', label: 'Keep approved with conditions' },
  { value: 'tighten', label: 'Tighten monitoring' },
  { value: 'revalidate', label: 'Formal revalidation' },
];

export function describeDisposition(value: string | null): string {
  return DISPOSITIONS.find((d) => d.value === value)?.label ?? value ?? '';
}

export const IMPACTS: readonly { value: string; label: string }[] = [
  { value: 'customer', label: 'Customer outcomes' },
  { value: 'compliance', label: 'Compliance posture' },
  { value: 'financial', label: 'Financial exposure' },
];
