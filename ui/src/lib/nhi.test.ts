import { describe, expect, test } from 'vitest';
import type { Finding } from './bindings/Finding';
import type { NhiView } from './bindings/NhiView';
import type { SessionInfo } from './bindings/SessionInfo';
import { canManageNhi, environments, filterNhis, findingKinds, formatPct, NO_FILTER, openFindings } from './nhi';

function finding(code: string, owasp: string, accepted = false): Finding {
  return {
    code,
    owasp,
    title: code,
    detail: '',
    accepted: accepted ? { by: 'a@x', at: '2026-01-01', until: '2026-06-01', reason: 'r' } : null,
  };
}

function nhi(name: string, extra: Partial<NhiView> = {}): NhiView {
  return {
    id: name.length,
    name,
    kind: 'service-account',
    system: 'AWS',
    owner: 'ana@x',
    owner_active: true,
    environment: 'production',
    scopes: [],
    identifier: null,
    human_use: false,
    rotation_days: 90,
    last_rotated: '2026-01-01',
    rotation_due: '2026-04-01',
    expires: null,
    status: 'active',
    revoked_at: null,
    revoke_reason: null,
    linked_models: [],
    findings: [],
    created_at: '2026-01-01',
    updated_at: '2026-01-01',
    ...extra,
  };
}

function session(email: string, roles: SessionInfo['member']['roles']): SessionInfo {
  return {
    registry_id: 'r',
    org: 'o',
    dir: '/d',
    schema_version: 3,
    member: {
      id: 1,
      email,
      name: email,
      roles,
      status: 'active',
      signing_public_key: '',
      created_at: '',
      offboarded_at: null,
      offboard_reason: null,
    },
  };
}

const all = [
  nhi('scorer-sa', { findings: [finding('rotation-overdue', 'NHI7'), finding('no-expiry', 'NHI7', true)], linked_models: ['Credit scorer'] }),
  nhi('etl-key', { owner: 'ben@x', environment: 'staging', identifier: 'AKIAEXAMPLE', findings: [finding('overprivileged', 'NHI5')] }),
  nhi('old-cert', { status: 'revoked', findings: [] }),
];

describe('NHI view logic', () => {
  test('accepted findings are not open', () => {
    expect(openFindings(all[0].findings).map((f) => f.code)).toEqual(['rotation-overdue']);
  });

  test('only the owner or an admin is offered the lifecycle controls', () => {
    expect(canManageNhi(session('ana@x', ['engineer']), all[0])).toBe(true);
    expect(canManageNhi(session('ben@x', ['engineer']), all[0])).toBe(false);
    expect(canManageNhi(session('cy@x', ['admin']), all[0])).toBe(true);
  });

  test('filters combine: search (identifier and models included), finding, status, environment, mine', () => {
    const names = (f: Partial<typeof NO_FILTER>, me = 'ana@x'): string[] =>
      filterNhis(all, { ...NO_FILTER, ...f }, me).map((n) => n.name);
    expect(names({})).toEqual(['scorer-sa', 'etl-key', 'old-cert']);
    expect(names({ search: 'akiaex' })).toEqual(['etl-key']);
    expect(names({ search: 'credit' })).toEqual(['scorer-sa']);
    expect(names({ finding: 'any' })).toEqual(['scorer-sa', 'etl-key']);
    expect(names({ finding: 'no-expiry' })).toEqual([]);
    expect(names({ finding: 'overprivileged' })).toEqual(['etl-key']);
    expect(names({ status: 'revoked' })).toEqual(['old-cert']);
    expect(names({ environment: 'staging' })).toEqual(['etl-key']);
    expect(names({ mine: true }, 'ben@x')).toEqual(['etl-key']);
    expect(names({ mine: true, finding: 'any' }, 'ana@x')).toEqual(['scorer-sa']);
  });

  test('finding kinds are listed once, by OWASP number; environments sorted', () => {
    expect(findingKinds(all).map((k) => k.owasp)).toEqual(['NHI5', 'NHI7']);
    expect(environments(all)).toEqual(['production', 'staging']);
  });

  test('percentages', () => {
    expect(formatPct(null)).toBe('—');
    expect(formatPct(66.666)).toBe('67%');
  });
});
