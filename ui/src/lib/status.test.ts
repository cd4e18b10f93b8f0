import { describe, expect, test } from 'vitest';
import type { ExceptionState } from './bindings/ExceptionState';
import { approvalChip, describeDisposition, exceptionChip, isOpen, statusChip } from './status';

describe('status chips', () => {
  test('every exception state has a chip that carries its word', () => {
    const states: ExceptionState[] = ['opened', 'validating', 'confirmed', 'escalated', 'recovered', 'decided', 'closed', 'dismissed'];
    for (const s of states) {
      const chip = exceptionChip(s);
      expect(chip.label).toBe(s);
      expect(chip.className).toBe(`chip chip-${chip.tone}`);
    }
    expect(exceptionChip('escalated').tone).toBe('danger');
    expect(exceptionChip('closed').tone).toBe('success');
    expect(exceptionChip('dismissed').tone).toBe('neutral');
  });

  test('approval states', () => {
    expect(approvalChip('approved').tone).toBe('success');
    expect(approvalChip('pending').tone).toBe('warning');
    expect(approvalChip('lapsed').tone).toBe('danger');
    expect(approvalChip('retired').tone).toBe('neutral');
  });

  test('the same word gets the same chip wherever it appears', () => {
    expect(statusChip('closed')).toEqual(exceptionChip('closed'));
    expect(statusChip('lapsed')).toEqual(approvalChip('lapsed'));
    expect(statusChip('proposed').tone).toBe('warning');
    expect(statusChip('something new').tone).toBe('neutral');
  });

  test('open states and dispositions', () => {
    expect(isOpen('decided')).toBe(true);
    expect(isOpen('closed')).toBe(false);
    expect(isOpen('dismissed')).toBe(false);
    expect(describeDisposition('keep')).toBe('Keep approved with conditions');
    expect(describeDisposition(null)).toBe('');
  });
});
