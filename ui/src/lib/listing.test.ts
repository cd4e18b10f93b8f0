import { describe, expect, it } from 'vitest';
import {
  activeModelFilters,
  ariaSort,
  DEFAULT_EXCEPTION_FILTERS,
  DEFAULT_MODEL_ORDER,
  exceptionArgs,
  filterKey,
  modelQuery,
  NO_MODEL_FILTERS,
  toggleOrder,
} from './listing';

describe('modelQuery', () => {
  it('sends no filter when none is set, in name order', () => {
    expect(modelQuery(NO_MODEL_FILTERS, 0, 100)).toEqual({
      search: null,
      risk_tier: null,
      status: null,
      deployment_mode: null,
      approval_status: null,
      owner: null,
      sort: 'name',
      direction: 'asc',
      offset: 0,
      limit: 100,
    });
  });

  it('passes each set filter and the order to the core, trimmed, with the page asked for', () => {
    const q = modelQuery(
      { search: '  credit ', riskTier: 'high', status: 'paused', deploymentMode: 'canary', approval: 'lapsed' },
      300,
      100,
      { sort: 'approval_expiry', direction: 'desc' },
    );
    expect(q).toMatchObject({
      search: 'credit',
      risk_tier: 'high',
      status: 'paused',
      deployment_mode: 'canary',
      approval_status: 'lapsed',
      sort: 'approval_expiry',
      direction: 'desc',
    });
    expect([q.offset, q.limit]).toEqual([300, 100]);
  });

  it('lists the active filters as chips', () => {
    expect(activeModelFilters(NO_MODEL_FILTERS)).toEqual([]);
    expect(
      activeModelFilters({ ...NO_MODEL_FILTERS, search: 'risk', deploymentMode: 'shadow', approval: 'pending' }).map((c) => c.key),
    ).toEqual(['search', 'deploymentMode', 'approval']);
  });
});

describe('model order', () => {
  it('flips the direction on the same column and starts another ascending', () => {
    const desc = toggleOrder(DEFAULT_MODEL_ORDER, 'name');
    expect(desc).toEqual({ sort: 'name', direction: 'desc' });
    expect(toggleOrder(desc, 'name')).toEqual({ sort: 'name', direction: 'asc' });
    expect(toggleOrder(desc, 'risk_tier')).toEqual({ sort: 'risk_tier', direction: 'asc' });
  });

  it('marks only the sorted column for assistive technology', () => {
    expect(ariaSort(DEFAULT_MODEL_ORDER, 'name')).toBe('ascending');
    expect(ariaSort({ sort: 'owner', direction: 'desc' }, 'owner')).toBe('descending');
    expect(ariaSort({ sort: 'owner', direction: 'desc' }, 'name')).toBe('none');
  });
});

describe('exceptionArgs and filterKey', () => {
  it('starts on every open exception', () => {
    expect(exceptionArgs(DEFAULT_EXCEPTION_FILTERS)).toEqual({ state: 'open', model: null });
  });

  it('maps "any" to no filter', () => {
    expect(exceptionArgs({ state: '', model: ' ' })).toEqual({ state: null, model: null });
    expect(exceptionArgs({ state: 'opened', model: 'credit-risk' })).toEqual({ state: 'opened', model: 'credit-risk' });
  });

  it('changes exactly when a filter changes', () => {
    expect(filterKey({ state: '', model: '' })).toBe(filterKey({ state: '', model: '' }));
    expect(filterKey({ state: '', model: '' })).not.toBe(filterKey({ state: 'closed', model: '' }));
  });
});
