// Filters and order of the paged lists (Models, Exceptions) turned into the core's queries: the
// filtering and ordering happen in the database, never in JS over every row. Unit-tested in
// listing.test.ts.

import type { ExceptionState } from './bindings/ExceptionState';
import type { ModelQuery } from './bindings/ModelQuery';
import type { ModelSort } from './bindings/ModelSort';
import type { SortDirection } from './bindings/SortDirection';

/** The model list's filters as the form holds them ('' = any). */
export interface ModelFilters {
  search: string;
  riskTier: string;
  status: string;
  deploymentMode: string;
  /** approved, pending, lapsed, retired (as of the registry's today). */
  approval: string;
}

export const NO_MODEL_FILTERS: ModelFilters = { search: '', riskTier: '', status: '', deploymentMode: '', approval: '' };

/** The model list's order: a column and a direction. */
export interface ModelOrder {
  sort: ModelSort;
  direction: SortDirection;
}

export const DEFAULT_MODEL_ORDER: ModelOrder = { sort: 'name', direction: 'asc' };

/** What the search box searches, for its placeholder and the chip. */
export const MODEL_SEARCH_FIELDS = 'Name, function, owner or intended use';

const orNull = (value: string): string | null => (value.trim() === '' ? null : value.trim());

/** The core query of one page of models under these filters, in this order. */
export function modelQuery(filters: ModelFilters, offset: number, limit: number, order: ModelOrder = DEFAULT_MODEL_ORDER): ModelQuery {
  return {
    search: orNull(filters.search),
    risk_tier: orNull(filters.riskTier),
    status: orNull(filters.status),
    deployment_mode: orNull(filters.deploymentMode),
    approval_status: orNull(filters.approval),
    owner: null,
    sort: order.sort,
    direction: order.direction,
    offset,
    limit,
  };
}

/** The order after a click on a column header: the same column flips, another starts ascending. */
export function toggleOrder(order: ModelOrder, sort: ModelSort): ModelOrder {
  if (order.sort === sort) {
    return { sort, direction: order.direction === 'asc' ? 'desc' : 'asc' };
  }
  return { sort, direction: 'asc' };
}

/** A header's `aria-sort` under this order. */
export function ariaSort(order: ModelOrder, sort: ModelSort): 'ascending' | 'descending' | 'none' {
  if (order.sort !== sort) {
    return 'none';
  }
  return order.direction === 'asc' ? 'ascending' : 'descending';
}

/** The active filters as chips: which field, what it shows, and the filters without it. */
export function activeModelFilters(filters: ModelFilters): { key: keyof ModelFilters; label: string }[] {
  const out: { key: keyof ModelFilters; label: string }[] = [];
  if (filters.search.trim()) {
    out.push({ key: 'search', label: `matches “${filters.search.trim()}”` });
  }
  if (filters.riskTier) {
    out.push({ key: 'riskTier', label: `risk tier: ${filters.riskTier}` });
  }
  if (filters.status) {
    out.push({ key: 'status', label: `status: ${filters.status}` });
  }
  if (filters.deploymentMode) {
    out.push({ key: 'deploymentMode', label: `deployment: ${filters.deploymentMode}` });
  }
  if (filters.approval) {
    out.push({ key: 'approval', label: `approval: ${filters.approval}` });
  }
  return out;
}

/** The exception list's state filter: one state, every open one, or '' for any. */
export type ExceptionStateFilter = ExceptionState | 'open' | '';

/** The exception list's filters ('' = any). */
export interface ExceptionFilters {
  state: ExceptionStateFilter;
  /** A model's name (NAME or NAME@VERSION), as the core resolves it. */
  model: string;
}

/** What the exception list shows first: every open exception (not closed or dismissed). */
export const DEFAULT_EXCEPTION_FILTERS: ExceptionFilters = { state: 'open', model: '' };

/** The core's arguments for one page of exceptions under these filters. */
export function exceptionArgs(filters: ExceptionFilters): { state: ExceptionState | 'open' | null; model: string | null } {
  return {
    state: filters.state === '' ? null : filters.state,
    model: orNull(filters.model),
  };
}

/** A key that changes exactly when the filters do (so the table starts a new page cache). */
export function filterKey(filters: object): string {
  return JSON.stringify(filters);
}
