import { describe, expect, it } from 'vitest';
import { pickerLabel, pickerSearch } from './picker';

describe('model picker', () => {
  const m = { name: 'credit-risk', version: '2.0', display_name: 'credit-risk@2.0' };
  it('writes a model as name@version or as its display name', () => {
    expect(pickerLabel(m, 'name-version')).toBe('credit-risk@2.0');
    expect(pickerLabel({ ...m, display_name: 'churn' , name: 'churn', version: '1.0' }, 'display')).toBe('churn');
    expect(pickerLabel({ ...m, display_name: 'churn', name: 'churn', version: '1.0' }, 'name-version')).toBe('churn@1.0');
  });
  it('searches by the name part of what is typed', () => {
    expect(pickerSearch('credit-risk@2')).toBe('credit-risk');
    expect(pickerSearch('  fraud ')).toBe('fraud');
    expect(pickerSearch('')).toBe('');
    expect(pickerSearch('@1.0')).toBe('');
  });
});
