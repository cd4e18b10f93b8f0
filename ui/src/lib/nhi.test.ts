import { describe, expect, test } from 'vitest';
import type { Finding } from './bindings/Finding';
import type { NhiView } from './bindings/NhiView';
import type { SessionInfo } from './bindings/SessionInfo';
import { canManageNhi, environments, formatPct, isFiltered, NO_FILTER, nhiFilterKey, nhiQuery, openFindings, postureFindingKinds } from './nhi';

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

  test('filters map to the core query: blanks are absent, "mine" is the owner, the page is passed on', () => {
    expect(nhiQuery(NO_FILTER, 'ana@x', 0, 100)).toEqual({
      search: null, kind: null, status: null, environment: null, owner: null, finding: null, offset: 0, limit: 100,
    });
    expect(
      nhiQuery({ search: '  akia ', finding: 'any', status: 'revoked', environment: ' staging ', mine: true }, 'ben@x', 200, 50),
    ).toEqual({
      search: 'akia', kind: null, status: 'revoked', environment: 'staging', owner: 'ben@x', finding: 'any', offset: 200, limit: 50,
    });
    expect(nhiQuery({ ...NO_FILTER, mine: false, search: '   ' }, 'ben@x', 0, 1).owner).toBeNull();
    expect(nhiQuery({ ...NO_FILTER, finding: 'rotation-overdue' }, 'ben@x', 0, 1).finding).toBe('rotation-overdue');
  });

  test('the query key changes with each filter and not with blank edits', () => {
    const base = nhiFilterKey(NO_FILTER);
    expect(nhiFilterKey({ ...NO_FILTER, search: '  ' })).toBe(base);
    const keys = [
      { search: 'x' }, { finding: 'any' }, { status: 'active' }, { environment: 'prod' }, { mine: true },
    ].map((f) => nhiFilterKey({ ...NO_FILTER, ...f }));
    expect(new Set([base, ...keys]).size).toBe(6);
    expect(isFiltered(NO_FILTER)).toBe(false);
    expect(isFiltered({ ...NO_FILTER, mine: true })).toBe(true);
  });

  test('finding options come from the posture (open ones, by OWASP number); the chosen one is kept', () => {
    const posture = {
      open_findings: [
        { code: 'rotation-overdue', owasp: 'NHI7', title: 'Rotation overdue', count: 3 },
        { code: 'overprivileged', owasp: 'NHI5', title: 'Admin or wildcard scope', count: 1 },
        { code: 'no-expiry', owasp: 'NHI7', title: 'No expiry date', count: 0 },
        { code: 'human-use', owasp: 'NHI10', title: 'Used by people', count: 2 },
      ],
    };
    expect(postureFindingKinds(posture).map((k) => k.code)).toEqual(['overprivileged', 'rotation-overdue', 'human-use']);
    expect(postureFindingKinds(posture).map((k) => k.title)).toEqual(['Admin or wildcard scope', 'Rotation overdue', 'Used by people']);
    expect(postureFindingKinds(posture, 'no-expiry').map((k) => [k.code, k.count])).toContainEqual(['no-expiry', null]);
    expect(postureFindingKinds(posture, 'any')).toHaveLength(3);
    expect(postureFindingKinds(null)).toEqual([]);
  });

  test('environments of a page: distinct and sorted', () => {
    expect(environments(all)).toEqual(['production', 'staging']);
    expect(environments([nhi('x', { environment: null }), nhi('y', { environment: '' })])).toEqual([]);
  });

  test('percentages', () => {
    expect(formatPct(null)).toBe('—');
    expect(formatPct(66.666)).toBe('67%');
  });
});
