import { ApiError, get, listOf, patch, post } from './api.js';
import type { Issue, IssueStatus } from './types.js';

export interface IssuePage {
  items: Issue[];
  nextCursor: string | null;
}

export async function listIssues(projectId: number, query: string): Promise<IssuePage> {
  const body = await get<unknown>(`/api/v1/projects/${projectId}/issues${query}`);
  const b = (body ?? {}) as { nextCursor?: string | null; cursor?: { next?: string | null } | string | null };
  const next = b.nextCursor ?? (typeof b.cursor === 'object' ? b.cursor?.next : b.cursor) ?? null;
  return { items: listOf<Issue>(body, 'issues'), nextCursor: next ?? null };
}

/** Set status on many issues: the bulk endpoint when the server has it, else one PATCH each. */
export async function setStatus(projectId: number, ids: number[], status: IssueStatus): Promise<void> {
  await post(`/api/v1/projects/${projectId}/issues/bulk`, { ids, status });
}

export async function updateIssue(id: number, body: Record<string, unknown>): Promise<Issue> {
  if (body.status === 'resolved' && Object.keys(body).length === 1) {
    try {
      return await patch<Issue>(`/api/v1/issues/${id}/resolve`, {});
    } catch (e) {
      if (
        !(e instanceof ApiError) ||
        e.status !== 404 ||
        e.code !== 'not_found' ||
        !/no route/.test(e.message)
      )
        throw e;
    }
  }
  return patch<Issue>(`/api/v1/issues/${id}`, body);
}

/** Sparkline values from the API's sparkline (numbers or `{count}` buckets). */
export function sparkValues(s: Issue['sparkline']): number[] {
  if (!s) return [];
  return s.map((x) => (typeof x === 'number' ? x : (x.count ?? 0)));
}
