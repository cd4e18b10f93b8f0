// The model picker's view logic: how a model is written in the field and which search a typed
// value sends to the core.
import type { ModelView } from './bindings/ModelView';

/** How many matches the picker asks the core for. */
export const PICKER_LIMIT = 20;

/** The value a chosen model puts in the field: `name@version`, or the model page's display name. */
export function pickerLabel(m: Pick<ModelView, 'name' | 'version' | 'display_name'>, format: 'name-version' | 'display'): string {
  return format === 'display' ? m.display_name : `${m.name}@${m.version}`;
}

/** The search sent for what is typed: the name part (before `@`), trimmed. */
export function pickerSearch(typed: string): string {
  return (typed.split('@')[0] ?? '').trim();
}
