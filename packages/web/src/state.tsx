import { createContext, useContext } from 'react';
import type { User } from './api.js';
import type { Org, Project } from './types.js';

export interface AppState {
  user: User;
  orgs: Org[];
  projects: Project[];
  org: Org | undefined;
  project: Project | undefined;
  reloadProjects: () => Promise<void>;
  selectOrg: (id: number) => void;
}
export const AppContext = createContext<AppState | null>(null);
export function useApp(): AppState {
  const s = useContext(AppContext);
  if (!s) throw new Error('useApp outside the signed-in shell');
  return s;
}
