export type View = 'home' | 'models' | 'drift' | 'exceptions' | 'nhis' | 'calendar' | 'audit' | 'pack' | 'members';

/** Where the window is: a top-level view, or a record page under one. */
export type Route =
  | { view: Exclude<View, 'drift'> }
  | { view: 'drift'; model?: string }
  | { view: 'model'; model: string }
  | { view: 'exception'; id: number }
  | { view: 'nhi'; nhi: string }
  | { view: 'import'; model?: string };

export interface NavItem {
  view: View;
  label: string;
  /** Whether this release has the view; the others say when they arrive. */
  ready: boolean;
}

export const NAV: readonly NavItem[] = [
  { view: 'home', label: 'Home', ready: true },
  { view: 'models', label: 'Models', ready: true },
  { view: 'drift', label: 'Compute drift', ready: true },
  { view: 'exceptions', label: 'Exceptions', ready: true },
  { view: 'nhis', label: 'NHIs', ready: true },
  { view: 'calendar', label: 'Calendar', ready: true },
  { view: 'audit', label: 'Audit', ready: true },
  { view: 'pack', label: 'Audit pack', ready: true },
  { view: 'members', label: 'Members & settings', ready: true },
];

/** The left-navigation entry a route belongs to. */
export function navOf(route: Route): View {
  switch (route.view) {
    case 'model':
    case 'import':
      return 'models';
    case 'exception':
      return 'exceptions';
    case 'nhi':
      return 'nhis';
    default:
      return route.view;
  }
}

export type Navigate = (route: Route) => void;
