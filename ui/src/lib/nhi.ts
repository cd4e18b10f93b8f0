// View logic of the NHI inventory and NHI page. The rules (who may act, what a finding is) live in
// the core; this only decides what to show and which controls to offer.
import type { Finding } from './bindings/Finding';
import type { NhiQuery } from './bindings/NhiQuery';
import type { NhiView } from './bindings/NhiView';
import type { Posture } from './bindings/Posture';
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

/** `null` for an empty (or blank) filter value: the core then matches everything. */
function orNull(value: string): string | null {
  const v = value.trim();
  return v === '' ? null : v;
}

/** The core's query of one page of the inventory for these filters ("mine": owner = `me`). */
export function nhiQuery(filter: NhiFilter, me: string, offset: number, limit: number): NhiQuery {
  return {
    search: orNull(filter.search),
    kind: null,
    status: orNull(filter.status),
    environment: orNull(filter.environment),
    owner: filter.mine ? me : null,
    finding: orNull(filter.finding),
    offset,
    limit,
  };
}

/** A key that changes exactly when the filters (and so the query) do. */
export function nhiFilterKey(filter: NhiFilter): string {
  return JSON.stringify([filter.search.trim(), filter.finding, filter.status, filter.environment.trim(), filter.mine]);
}

/** Whether any filter is set (the count then reads "N of M"). */
export function isFiltered(filter: NhiFilter): boolean {
  return nhiFilterKey(filter) !== nhiFilterKey(NO_FILTER);
}

/**
 * The finding filter's options from the posture's open findings (the whole registry's counts,
 * not one page's), by OWASP ID; the finding chosen is kept even when none is open any more.
 */
export function postureFindingKinds(
  posture: Pick<Posture, 'open_findings'> | null,
  chosen = '',
): { code: string; owasp: string; title: string; count: number | null }[] {
  const kinds: { code: string; owasp: string; title: string; count: number | null }[] = (posture?.open_findings ?? [])
    .filter((f) => f.count > 0)
    .map((f) => ({ code: f.code, owasp: f.owasp, title: f.title, count: f.count }));
  if (chosen !== '' && chosen !== 'any' && !kinds.some((k) => k.code === chosen)) {
    kinds.push({ code: chosen, owasp: '', title: chosen, count: null });
  }
  const num = (id: string): number => Number(id.replace(/\D/g, '')) || 0;
  return kinds.sort((a, b) => num(a.owasp) - num(b.owasp) || a.code.localeCompare(b.code));
}

/** Distinct environments of these NHIs (a page of them), sorted. */
export function environments(nhis: readonly NhiView[]): string[] {
  return [...new Set(nhis.map((n) => n.environment).filter((e): e is string => e !== null && e !== ''))].sort();
}

/** A rotation compliance percentage as shown (`—` when there is nothing to measure). */
export function formatPct(value: number | null): string {
  return value === null ? '—' : `${Math.round(value)}%`;
}
