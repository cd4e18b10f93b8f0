export type View = 'home' | 'models' | 'exceptions' | 'nhis' | 'calendar' | 'audit' | 'members';

/** Where the window is: a top-level view, or a record page under one. */
export type Route =
  | { view: View }
  | { view: 'model'; model: string }
  | { view: 'exception'; id: number }
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
  { view: 'exceptions', label: 'Exceptions', ready: true },
  { view: 'nhis', label: 'NHIs', ready: true },
  { view: 'calendar', label: 'Calendar', ready: true },
  { view: 'audit', label: 'Audit', ready: true },
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
    default:
      return route.view;
  }
}

export type Navigate = (route: Route) => void;
