// View logic of the NHI inventory and NHI page. The rules (who may act, what a finding is) live in
// the core; this only decides what to show and which controls to offer.
import type { Finding } from './bindings/Finding';
import type { NhiView } from './bindings/NhiView';
import type { SessionInfo } from './bindings/SessionInfo';

/** Findings that are not accepted as a risk. */
export function openFindings(findings: readonly Finding[]): Finding[] {
  return findings.filter((f) => f.accepted === null);
}

/** Whether the signed-in member may record lifecycle operations (the core refuses others too). */
export function canManageNhi(session: SessionInfo, nhi: Pick<NhiView, 'owner'>): boolean {
  return session.member.roles.includes('admin') || session.member.email === nhi.owner;
}

export interface NhiFilter {
  search: string;
  /** A finding code, `any` (at least one open finding), or '' for no filter. */
  finding: string;
  /** `active`, `revoked` or '' for all. */
  status: string;
  environment: string;
  /** Only the NHIs the signed-in member owns. */
  mine: boolean;
}

export const NO_FILTER: NhiFilter = { search: '', finding: '', status: '', environment: '', mine: false };

export function filterNhis(nhis: readonly NhiView[], filter: NhiFilter, me: string): NhiView[] {
  const q = filter.search.trim().toLowerCase();
  return nhis.filter((n) => {
    if (q !== '') {
      const hay = [n.name, n.kind, n.system, n.owner, n.environment ?? '', n.identifier ?? '', ...n.linked_models]
        .join(' ')
        .toLowerCase();
      if (!hay.includes(q)) {
        return false;
      }
    }
    if (filter.status !== '' && n.status !== filter.status) {
      return false;
    }
    if (filter.environment !== '' && (n.environment ?? '') !== filter.environment) {
      return false;
    }
    if (filter.mine && n.owner !== me) {
      return false;
    }
    const open = openFindings(n.findings);
    if (filter.finding === 'any') {
      return open.length > 0;
    }
    if (filter.finding !== '') {
      return open.some((f) => f.code === filter.finding);
    }
    return true;
  });
}

/** The finding kinds present among these NHIs (open ones), with their OWASP ID and title, by ID. */
export function findingKinds(nhis: readonly NhiView[]): { code: string; owasp: string; title: string }[] {
  const byCode = new Map<string, { code: string; owasp: string; title: string }>();
  for (const n of nhis) {
    for (const f of openFindings(n.findings)) {
      if (!byCode.has(f.code)) {
        byCode.set(f.code, { code: f.code, owasp: f.owasp, title: f.title });
      }
    }
  }
  const num = (id: string): number => Number(id.replace(/\D/g, '')) || 0;
  return [...byCode.values()].sort((a, b) => num(a.owasp) - num(b.owasp) || a.code.localeCompare(b.code));
}

/** Distinct environments, sorted. */
export function environments(nhis: readonly NhiView[]): string[] {
  return [...new Set(nhis.map((n) => n.environment).filter((e): e is string => e !== null && e !== ''))].sort();
}

/** A rotation compliance percentage as shown (`—` when there is nothing to measure). */
export function formatPct(value: number | null): string {
  return value === null ? '—' : `${Math.round(value)}%`;
}
