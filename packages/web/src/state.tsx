import { createContext, useContext } from 'react';
import type { User } from './api.js';
import type { Org, Project, Role } from './types.js';

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

export type Permission = 'read' | 'resolve' | 'write' | 'manage_keys' | 'manage_members' | 'admin';
/** The server's permission table (packages/server/src/identity/access.ts), to hide what a role may not do. */
const permissions: Record<Role, readonly Permission[]> = {
  owner: ['read', 'resolve', 'write', 'manage_keys', 'manage_members', 'admin'],
  admin: ['read', 'resolve', 'write', 'manage_keys', 'manage_members', 'admin'],
  member: ['read', 'resolve', 'write'],
  viewer: ['read'],
};
export function roleAllows(role: Role | undefined, perm: Permission): boolean {
  return role !== undefined && permissions[role].includes(perm);
}
/** Whether the signed-in user's role in the current organization allows `perm`. */
export function useCan(): (perm: Permission) => boolean {
  const { org, project } = useApp();
  const role = project?.role ?? org?.role;
  return (perm) => roleAllows(role, perm);
}
