import { describe, expect, test } from 'vitest';
import { formErrors, parseNumber, splitList } from './forms';

describe('core refusals on forms', () => {
  test('invalid_input goes beside its field, without the field prefix', () => {
    const e = formErrors({ code: 'invalid_input', message: 'rationale: is required', field: 'rationale' }, ['rationale']);
    expect(e).toEqual({ fields: { rationale: 'Is required' }, form: null, code: 'invalid_input' });
  });

  test('aliases map the core field onto the form field', () => {
    const e = formErrors({ code: 'invalid_input', message: 'tier: unknown', field: 'tier' }, ['risk_tier'], { tier: 'risk_tier' });
    expect(Object.keys(e.fields)).toEqual(['risk_tier']);
  });

  test('other codes go to the top of the form', () => {
    const e = formErrors({ code: 'gate_refused', message: 'cannot approve m: missing a validator', field: null }, ['until']);
    expect(e).toEqual({ fields: {}, form: 'cannot approve m: missing a validator', code: 'gate_refused' });
    expect(formErrors(new Error('boom'), []).code).toBe('internal');
  });

  test('numbers and lists', () => {
    expect(parseNumber(' 0.25 ')).toBe(0.25);
    expect(parseNumber('')).toBeNull();
    expect(parseNumber('abc')).toBeNaN();
    expect(splitList('a, b\nc,,')).toEqual(['a', 'b', 'c']);
  });
});
