import nodemailer, { type Transporter } from 'nodemailer';
import type { AppContext } from '../context.js';
import { badRequest, conflict, forbidden, notFound } from '../platform/errors.js';
import { type Principal, type Role, requireOrgPermission } from './access.js';
import { normalizeEmail } from './passwords.js';
import { INVITE_TOKEN_PREFIX, randomToken, sha256Hex } from './secrets.js';
import * as store from './store.js';

const INVITATION_TTL_DAYS = 7;

export async function listOrgs(ctx: AppContext, p: Principal) {
  return store.orgsOfUser(ctx.db, p.userId);
}

export async function createOrg(ctx: AppContext, p: Principal, name: string) {
  if (p.scope !== 'write') throw forbidden('this API token is read-only');
  const n = name.trim();
  if (!n) throw badRequest('name must not be empty');
  const org = await ctx.db.tx(async (q) => {
    const org = await store.insertOrg(q, n);
    await store.addMembership(q, org.id, p.userId, 'owner');
    return org;
  });
  return { ...org, role: 'owner' as Role };
}

export async function getOrg(ctx: AppContext, p: Principal, orgId: number) {
  const { role } = await requireOrgPermission(ctx, p, orgId, 'read');
  const org = await store.orgById(ctx.db, orgId);
  if (!org) throw notFound('organization');
  return { ...org, role };
}

export async function renameOrg(ctx: AppContext, p: Principal, orgId: number, name: string) {
  await requireOrgPermission(ctx, p, orgId, 'admin');
  const n = name.trim();
  if (!n) throw badRequest('name must not be empty');
  await store.updateOrgName(ctx.db, orgId, n);
  return getOrg(ctx, p, orgId);
}

/* --------------------------------- members -------------------------------- */

export async function listMembers(ctx: AppContext, p: Principal, orgId: number) {
  await requireOrgPermission(ctx, p, orgId, 'read');
  return store.members(ctx.db, orgId);
}

/** Only owners grant, change or remove the owner role; an organization always keeps one owner. */
export async function changeMemberRole(
  ctx: AppContext,
  p: Principal,
  orgId: number,
  userId: number,
  role: Role,
) {
  const me = await requireOrgPermission(ctx, p, orgId, 'manage_members');
  await ctx.db.tx(async (q) => {
    const all = await store.lockMemberships(q, orgId);
    const target = all.find((m) => m.userId === userId);
    if (!target) throw notFound('member');
    if ((role === 'owner' || target.role === 'owner') && me.role !== 'owner')
      throw forbidden('only an owner may grant or change the owner role');
    if (target.role === 'owner' && role !== 'owner' && all.filter((m) => m.role === 'owner').length === 1)
      throw conflict('the organization must keep at least one owner');
    await store.setMemberRole(q, orgId, userId, role);
  });
  return (await store.members(ctx.db, orgId)).find((m) => m.userId === userId)!;
}

/** Managers remove members; anyone may leave. Only owners remove owners; the last owner stays. */
export async function removeMember(ctx: AppContext, p: Principal, orgId: number, userId: number) {
  const self = userId === p.userId;
  const me = await requireOrgPermission(ctx, p, orgId, self ? 'read' : 'manage_members');
  if (self && p.scope !== 'write') throw forbidden('this API token is read-only');
  await ctx.db.tx(async (q) => {
    const all = await store.lockMemberships(q, orgId);
    const target = all.find((m) => m.userId === userId);
    if (!target) throw notFound('member');
    if (target.role === 'owner' && me.role !== 'owner') throw forbidden('only an owner may remove an owner');
    if (target.role === 'owner' && all.filter((m) => m.role === 'owner').length === 1)
      throw conflict('the organization must keep at least one owner');
    await store.deleteMember(q, orgId, userId);
  });
}

/* ------------------------------- invitations ------------------------------ */

const transports = new WeakMap<AppContext, Transporter>();

function transportOf(ctx: AppContext): Transporter | undefined {
  if (!ctx.config.smtp) return undefined;
  let t = transports.get(ctx);
  if (!t) {
    t = nodemailer.createTransport(ctx.config.smtp.url);
    transports.set(ctx, t);
  }
  return t;
}

/** The dashboard's signup page takes the token from `?invite=` (signed-in users accept via the API). */
export const invitationLink = (ctx: AppContext, token: string) =>
  `${ctx.config.publicUrl}/signup?invite=${token}`;

export async function invite(
  ctx: AppContext,
  p: Principal,
  orgId: number,
  input: { email: string; role: Role },
) {
  const me = await requireOrgPermission(ctx, p, orgId, 'manage_members');
  if (input.role === 'owner' && me.role !== 'owner') throw forbidden('only an owner may invite an owner');
  const email = normalizeEmail(input.email);
  const existing = await store.members(ctx.db, orgId);
  if (existing.some((m) => m.email === email)) throw conflict('that person is already a member');
  const token = randomToken(INVITE_TOKEN_PREFIX);
  const inv = await store.insertInvitation(ctx.db, {
    orgId,
    email,
    role: input.role,
    tokenHash: sha256Hex(token),
    invitedBy: p.userId,
    ttlDays: INVITATION_TTL_DAYS,
  });
  const link = invitationLink(ctx, token);
  let emailed = false;
  const transport = transportOf(ctx);
  if (transport) {
    const org = await store.orgById(ctx.db, orgId);
    try {
      await transport.sendMail({
        from: ctx.config.smtp!.from,
        to: email,
        subject: `You are invited to ${org?.name ?? 'an organization'} on Beacon`,
        text: `${p.email} invited you to join ${org?.name ?? 'their organization'} on Beacon as ${input.role}.\n\nAccept the invitation: ${link}\n\nThe link expires in ${INVITATION_TTL_DAYS} days.\n`,
      });
      emailed = true;
    } catch (err) {
      ctx.log.warn({ orgId, invitationId: inv.id, err: (err as Error).message }, 'invitation email failed');
    }
  }
  return { ...inv, link, emailed };
}

export async function listInvitations(ctx: AppContext, p: Principal, orgId: number) {
  await requireOrgPermission(ctx, p, orgId, 'manage_members');
  return store.listInvitations(ctx.db, orgId);
}

export async function cancelInvitation(ctx: AppContext, p: Principal, orgId: number, id: number) {
  await requireOrgPermission(ctx, p, orgId, 'manage_members');
  if (!(await store.deleteInvitation(ctx.db, orgId, id))) throw notFound('invitation');
}

/** What the dashboard shows before accepting (the token itself is the credential). */
export async function describeInvitation(ctx: AppContext, token: string) {
  const inv = await store.pendingInvitation(ctx.db, sha256Hex(token));
  if (!inv) throw notFound('invitation');
  return {
    orgId: inv.orgId,
    orgName: inv.orgName,
    email: inv.email,
    role: inv.role,
    expiresAt: inv.expiresAt,
  };
}

/** The signed-in user joins; the invitation must be addressed to their email. */
export async function acceptInvitation(ctx: AppContext, p: Principal, token: string) {
  if (p.scope !== 'write') throw forbidden('this API token is read-only');
  return ctx.db.tx(async (q) => {
    const inv = await store.pendingInvitation(q, sha256Hex(token), true);
    if (!inv) throw notFound('invitation');
    if (inv.email !== p.email) throw forbidden('this invitation is addressed to another email address');
    const added = await store.addMembership(q, inv.orgId, p.userId, inv.role);
    if (!added) throw conflict('you are already a member of this organization');
    await store.markInvitationAccepted(q, inv.id, p.userId);
    return { orgId: inv.orgId, orgName: inv.orgName, role: inv.role };
  });
}
