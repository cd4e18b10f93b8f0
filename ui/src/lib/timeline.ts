// Audit events in plain words for timelines and the audit log.

import type { AuditEventView } from './bindings/AuditEventView';

const PHRASES: Record<string, string> = {
  'registry.create': 'Registry created',
  'member.add': 'Member added',
  'member.roles': 'Member roles changed',
  'member.offboard': 'Member offboarded',
  'model.register': 'Model registered',
  'model.update': 'Model details changed',
  'model.rights': 'Decision rights set',
  'model.approve': 'Release approved (signed)',
  'model.status': 'Model status changed',
  'approval.end': 'Approval ended',
  'approval.lapse': 'Approval lapsed',
  'threshold.propose': 'Threshold proposed',
  'measurements.import': 'Measurements imported',
  'exception.open': 'Exception opened',
  'exception.validate.start': 'Validation started',
  'exception.confirm': 'Signal confirmed by the validator',
  'exception.dismiss': 'Signal dismissed by the validator',
  'exception.flag': 'Impact flagged',
  'exception.escalate': 'Exception escalated',
  'exception.recover': 'Metric recovered (exception stays open)',
  'exception.breach-again': 'Metric breached again',
  'exception.decide': 'Disposition decided (signed)',
  'exception.cosign': 'Disposition co-signed; exception closed',
  'nhi.add': 'NHI added',
  'nhi.link': 'NHI linked to a model',
  'policy.set': 'Policy changed',
  'sweep.run': 'Escalation sweep',
};

/** "Exception opened", or the operation itself when it has no phrase yet. */
export function describeOperation(operation: string): string {
  return PHRASES[operation] ?? operation;
}

/** The record an event is about, e.g. "exception #3". */
export function describeEntity(event: Pick<AuditEventView, 'entity_type' | 'entity_id'>): string {
  return `${event.entity_type} #${event.entity_id}`;
}

function field(payload: unknown, key: string): unknown {
  if (typeof payload === 'object' && payload !== null && key in payload) {
    return (payload as Record<string, unknown>)[key];
  }
  return undefined;
}

/** A short detail line from the event's payload (state change, reason, rationale…). */
export function describePayload(event: Pick<AuditEventView, 'operation' | 'payload'>): string {
  const p = event.payload;
  const parts: string[] = [];
  const from = field(p, 'from');
  const to = field(p, 'to');
  if (typeof from === 'string' && typeof to === 'string') {
    parts.push(`${from} → ${to}`);
  }
  for (const key of ['metric', 'disposition', 'impact', 'rule', 'expires_on', 'reason', 'rationale', 'note']) {
    const value = field(p, key);
    if (typeof value === 'string' && value.length > 0) {
      parts.push(key === 'expires_on' ? `until ${value}` : value);
    }
  }
  const value = field(p, 'value');
  if (typeof value === 'number') {
    parts.push(`value ${value}`);
  }
  const breach = field(p, 'breach');
  if (typeof breach === 'number') {
    parts.push(`breach ${breach}`);
  }
  return parts.join(' · ');
}

/** Whether an event matches a free-text search (operation, actor, entity, payload). */
export function matchesSearch(event: AuditEventView, query: string): boolean {
  const q = query.trim().toLowerCase();
  if (q === '') {
    return true;
  }
  const haystack = [
    event.operation,
    describeOperation(event.operation),
    event.actor,
    event.entity_type,
    `${event.entity_type} #${event.entity_id}`,
    JSON.stringify(event.payload),
  ]
    .join(' ')
    .toLowerCase();
  return q.split(/\s+/).every((word) => haystack.includes(word));
}
