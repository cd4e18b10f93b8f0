import { describe, expect, test } from 'vitest';
import type { AuditEventView } from './bindings/AuditEventView';
import { describeOperation, describePayload, matchesSearch } from './timeline';

function ev(seq: number, operation: string, payload: unknown = {}): AuditEventView {
  return {
    id: seq,
    seq,
    at: '2026-11-27T10:00:00Z',
    actor: 'ana@acme.example',
    operation,
    entity_type: operation.split('.')[0],
    entity_id: '1',
    payload,
    prev_hash: '',
    hash: '',
  };
}

describe('audit events in words', () => {
  test('operations have phrases; unknown ones show as they are', () => {
    expect(describeOperation('exception.cosign')).toBe('Disposition co-signed; exception closed');
    expect(describeOperation('thing.new')).toBe('thing.new');
  });

  test('payload details', () => {
    expect(describePayload(ev(1, 'exception.decide', { from: 'confirmed', to: 'decided', disposition: 'retrain', rationale: 'why' }))).toBe(
      'confirmed → decided · retrain · why',
    );
    expect(describePayload(ev(2, 'exception.open', { metric: 'psi', value: 0.31 }))).toBe('psi · value 0.31');
    expect(describePayload(ev(3, 'x', null))).toBe('');
  });

  test('search matches every word anywhere', () => {
    const e = ev(5, 'exception.cosign', { to: 'closed' });
    expect(matchesSearch(e, 'cosign ana')).toBe(true);
    expect(matchesSearch(e, 'co-signed')).toBe(true);
    expect(matchesSearch(e, 'closed exception')).toBe(true);
    expect(matchesSearch(e, 'bob')).toBe(false);
    expect(matchesSearch(e, '  ')).toBe(true);
  });
});
