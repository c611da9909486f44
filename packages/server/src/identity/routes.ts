import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import type { HttpApp } from '../platform/http/server.js';
import { authenticate, type Principal, roles } from './access.js';
import * as auth from './auth.js';
import * as orgs from './orgs.js';
import { MAX_PASSWORD_LENGTH } from './passwords.js';
import * as projects from './projects.js';
import * as tokens from './tokens.js';

const id = z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const role = z.enum(roles as [string, ...string[]]).transform((r) => r as (typeof roles)[number]);
const roleOut = z.enum(['owner', 'admin', 'member', 'viewer']);
const bearer = [{ bearer: [] }];

const userOut = z.object({ id: z.number(), email: z.string(), name: z.string() });
const sessionOut = z.object({
  user: userOut,
  accessToken: z.string(),
  refreshToken: z.string(),
  expiresIn: z.number(),
});
const orgOut = z.object({ id: z.number(), name: z.string(), slug: z.string(), role: roleOut });
const memberOut = z.object({
  userId: z.number(),
  email: z.string(),
  name: z.string(),
  role: roleOut,
  joinedAt: z.string(),
});
const invitationOut = z.object({
  id: z.number(),
  orgId: z.number(),
  email: z.string(),
  role: roleOut,
  createdAt: z.string(),
  expiresAt: z.string(),
});
const projectOut = z.object({
  id: z.number(),
  orgId: z.number(),
  slug: z.string(),
  name: z.string(),
  platform: z.string().nullable(),
  retentionDays: z.number(),
  createdAt: z.string(),
  dsn: z.string().nullable(),
});
const keyOut = z.object({
  id: z.number(),
  projectId: z.number(),
  label: z.string(),
  publicKey: z.string(),
  enabled: z.boolean(),
  rateLimitPerMinute: z.number().nullable(),
  createdAt: z.string(),
  rotatedAt: z.string().nullable(),
  dsn: z.string(),
});
const keyWithSecretOut = keyOut.extend({ secretKey: z.string() });
const tokenOut = z.object({
  id: z.number(),
  name: z.string(),
  hint: z.string(),
  scope: z.enum(['read', 'write']),
  createdAt: z.string(),
  expiresAt: z.string().nullable(),
  lastUsedAt: z.string().nullable(),
});

/** PostgreSQL text cannot hold NUL: refuse it here (400) instead of failing in the database (500). */
const text = (max: number) =>
  z
    .string()
    .max(max)
    .refine((s) => !s.includes('\u0000'), 'must not contain NUL characters');
const email = text(320);
const password = z.string().max(MAX_PASSWORD_LENGTH);
const name = text(200).trim().min(1);
const platform = text(64).trim().nullable();
const rateLimit = z.number().int().min(0).max(100_000_000).nullable();

export function registerIdentityRoutes(app: HttpApp, ctx: AppContext): void {
  const principal = (req: FastifyRequest): Promise<Principal> => authenticate(ctx, req.headers.authorization);

  /* ---------------------------------- auth ---------------------------------- */

  app.get(
    '/api/v1/setup',
    {
      schema: {
        tags: ['auth'],
        summary: 'Whether the install needs its first account',
        response: { 200: z.object({ needsSetup: z.boolean() }) },
      },
    },
    async () => ({ needsSetup: await auth.needsSetup(ctx) }),
  );

  app.post(
    '/api/v1/auth/signup',
    {
      schema: {
        tags: ['auth'],
        summary: 'Create an account (and its organization, unless joining by invitation)',
        body: z.object({
          email,
          password,
          name: text(200).optional(),
          inviteToken: z.string().max(200).optional(),
        }),
        response: { 201: sessionOut },
      },
    },
    async (req, reply) => reply.code(201).send(await auth.signup(ctx, req.body, req.ip)),
  );

  app.post(
    '/api/v1/auth/signin',
    {
      schema: {
        tags: ['auth'],
        summary: 'Sign in with email and password',
        body: z.object({ email, password }),
        response: { 200: sessionOut },
      },
    },
    async (req) => auth.signin(ctx, req.body, req.ip),
  );

  app.post(
    '/api/v1/auth/refresh',
    {
      schema: {
        tags: ['auth'],
        summary: 'Exchange a refresh token for a new token pair (the old one becomes invalid)',
        body: z.object({ refreshToken: z.string().min(1).max(200) }),
        response: { 200: sessionOut },
      },
    },
    async (req) => auth.refresh(ctx, req.body.refreshToken, req.ip),
  );

  app.post(
    '/api/v1/auth/signout',
    {
      schema: {
        tags: ['auth'],
        summary: 'Revoke the session the refresh token belongs to',
        body: z.object({ refreshToken: z.string().min(1).max(200) }),
      },
    },
    async (req, reply) => {
      await auth.signout(ctx, req.body.refreshToken);
      return reply.code(204).send();
    },
  );

  app.get(
    '/api/v1/me',
    {
      schema: {
        tags: ['auth'],
        summary: 'The signed-in user and their organizations',
        security: bearer,
        response: {
          200: z.object({
            user: userOut,
            orgs: z.array(orgOut),
            via: z.enum(['jwt', 'token']),
            scope: z.enum(['read', 'write']),
          }),
        },
      },
    },
    async (req) => auth.me(ctx, await principal(req)),
  );

  app.patch(
    '/api/v1/me',
    {
      schema: {
        tags: ['auth'],
        summary: 'Update your profile',
        security: bearer,
        body: z.object({ name }),
        response: {
          200: z.object({
            user: userOut,
            orgs: z.array(orgOut),
            via: z.enum(['jwt', 'token']),
            scope: z.enum(['read', 'write']),
          }),
        },
      },
    },
    async (req) => auth.updateProfile(ctx, await principal(req), req.body),
  );

  app.post(
    '/api/v1/me/password',
    {
      schema: {
        tags: ['auth'],
        summary: 'Change your password; every other session is signed out and a new one returned',
        security: bearer,
        body: z.object({ currentPassword: password, newPassword: password }),
        response: { 200: sessionOut },
      },
    },
    async (req) => auth.changePassword(ctx, await principal(req), req.body, req.ip),
  );

  /* ---------------------------------- orgs ---------------------------------- */

  app.get(
    '/api/v1/orgs',
    { schema: { tags: ['orgs'], security: bearer, response: { 200: z.array(orgOut) } } },
    async (req) => orgs.listOrgs(ctx, await principal(req)),
  );

  app.post(
    '/api/v1/orgs',
    { schema: { tags: ['orgs'], security: bearer, body: z.object({ name }), response: { 201: orgOut } } },
    async (req, reply) =>
      reply.code(201).send(await orgs.createOrg(ctx, await principal(req), req.body.name)),
  );

  const orgParams = z.object({ orgId: id });
  app.get(
    '/api/v1/orgs/:orgId',
    {
      schema: {
        tags: ['orgs'],
        security: bearer,
        params: orgParams,
        response: { 200: orgOut.extend({ createdAt: z.string() }) },
      },
    },
    async (req) => orgs.getOrg(ctx, await principal(req), req.params.orgId),
  );

  app.patch(
    '/api/v1/orgs/:orgId',
    {
      schema: {
        tags: ['orgs'],
        security: bearer,
        params: orgParams,
        body: z.object({ name }),
        response: { 200: orgOut.extend({ createdAt: z.string() }) },
      },
    },
    async (req) => orgs.renameOrg(ctx, await principal(req), req.params.orgId, req.body.name),
  );

  app.get(
    '/api/v1/orgs/:orgId/members',
    {
      schema: { tags: ['orgs'], security: bearer, params: orgParams, response: { 200: z.array(memberOut) } },
    },
    async (req) => orgs.listMembers(ctx, await principal(req), req.params.orgId),
  );

  const memberParams = z.object({ orgId: id, userId: id });
  app.patch(
    '/api/v1/orgs/:orgId/members/:userId',
    {
      schema: {
        tags: ['orgs'],
        security: bearer,
        params: memberParams,
        body: z.object({ role }),
        response: { 200: memberOut },
      },
    },
    async (req) =>
      orgs.changeMemberRole(ctx, await principal(req), req.params.orgId, req.params.userId, req.body.role),
  );

  app.delete(
    '/api/v1/orgs/:orgId/members/:userId',
    { schema: { tags: ['orgs'], security: bearer, params: memberParams } },
    async (req, reply) => {
      await orgs.removeMember(ctx, await principal(req), req.params.orgId, req.params.userId);
      return reply.code(204).send();
    },
  );

  app.post(
    '/api/v1/orgs/:orgId/invitations',
    {
      schema: {
        tags: ['orgs'],
        summary: 'Invite someone by email; the answer carries the acceptance link (emailed when SMTP is set)',
        security: bearer,
        params: orgParams,
        body: z.object({ email, role: role.default('member') }),
        response: { 201: invitationOut.extend({ link: z.string(), emailed: z.boolean() }) },
      },
    },
    async (req, reply) =>
      reply.code(201).send(await orgs.invite(ctx, await principal(req), req.params.orgId, req.body)),
  );

  app.get(
    '/api/v1/orgs/:orgId/invitations',
    {
      schema: {
        tags: ['orgs'],
        security: bearer,
        params: orgParams,
        response: { 200: z.array(invitationOut) },
      },
    },
    async (req) => orgs.listInvitations(ctx, await principal(req), req.params.orgId),
  );

  app.delete(
    '/api/v1/orgs/:orgId/invitations/:invitationId',
    { schema: { tags: ['orgs'], security: bearer, params: z.object({ orgId: id, invitationId: id }) } },
    async (req, reply) => {
      await orgs.cancelInvitation(ctx, await principal(req), req.params.orgId, req.params.invitationId);
      return reply.code(204).send();
    },
  );

  const tokenParams = z.object({ token: z.string().min(1).max(200) });
  app.get(
    '/api/v1/invitations/:token',
    {
      schema: {
        tags: ['orgs'],
        params: tokenParams,
        response: {
          200: z.object({
            orgId: z.number(),
            orgName: z.string(),
            email: z.string(),
            role: roleOut,
            expiresAt: z.string(),
          }),
        },
      },
    },
    async (req) => orgs.describeInvitation(ctx, req.params.token),
  );

  app.post(
    '/api/v1/invitations/:token/accept',
    {
      schema: {
        tags: ['orgs'],
        security: bearer,
        params: tokenParams,
        response: { 200: z.object({ orgId: z.number(), orgName: z.string(), role: roleOut }) },
      },
    },
    async (req) => orgs.acceptInvitation(ctx, await principal(req), req.params.token),
  );

  /* -------------------------------- projects -------------------------------- */

  app.post(
    '/api/v1/projects',
    {
      schema: {
        tags: ['projects'],
        summary: 'Create a project with a first key; the secret key appears only in this response',
        security: bearer,
        body: z.object({ name, platform: platform.optional(), orgId: id.optional() }),
        response: { 201: projectOut.extend({ keys: z.array(keyWithSecretOut) }) },
      },
    },
    async (req, reply) =>
      reply.code(201).send(await projects.createProject(ctx, await principal(req), req.body)),
  );

  app.get(
    '/api/v1/projects',
    {
      schema: {
        tags: ['projects'],
        security: bearer,
        querystring: z.object({ orgId: id.optional() }),
        response: { 200: z.array(projectOut) },
      },
    },
    async (req) => projects.listProjects(ctx, await principal(req), req.query.orgId),
  );

  const projectParams = z.object({ id });
  app.get(
    '/api/v1/projects/:id',
    {
      schema: {
        tags: ['projects'],
        security: bearer,
        params: projectParams,
        response: { 200: projectOut.extend({ role: roleOut }) },
      },
    },
    async (req) => projects.getProject(ctx, await principal(req), req.params.id),
  );

  app.patch(
    '/api/v1/projects/:id',
    {
      schema: {
        tags: ['projects'],
        security: bearer,
        params: projectParams,
        body: z.object({
          name: name.optional(),
          slug: z
            .string()
            .regex(/^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/, 'lower-case letters, digits and dashes')
            .optional(),
          platform: platform.optional(),
          retentionDays: z.number().int().min(1).max(3650).optional(),
        }),
        response: { 200: projectOut },
      },
    },
    async (req) => projects.updateProject(ctx, await principal(req), req.params.id, req.body),
  );

  app.delete(
    '/api/v1/projects/:id',
    { schema: { tags: ['projects'], security: bearer, params: projectParams } },
    async (req, reply) => {
      await projects.deleteProject(ctx, await principal(req), req.params.id);
      return reply.code(204).send();
    },
  );

  /* ---------------------------------- keys ---------------------------------- */

  app.get(
    '/api/v1/projects/:id/keys',
    {
      schema: { tags: ['keys'], security: bearer, params: projectParams, response: { 200: z.array(keyOut) } },
    },
    async (req) => projects.listKeys(ctx, await principal(req), req.params.id),
  );

  app.post(
    '/api/v1/projects/:id/keys',
    {
      schema: {
        tags: ['keys'],
        summary: 'Create a key; the secret key appears only in this response',
        security: bearer,
        params: projectParams,
        body: z.object({ label: text(200).optional(), rateLimitPerMinute: rateLimit.optional() }).default({}),
        response: { 201: keyWithSecretOut },
      },
    },
    async (req, reply) =>
      reply.code(201).send(await projects.createKey(ctx, await principal(req), req.params.id, req.body)),
  );

  const keyParams = z.object({ id, keyId: id });
  app.patch(
    '/api/v1/projects/:id/keys/:keyId',
    {
      schema: {
        tags: ['keys'],
        summary: 'Rename, enable/disable, or set the per-key rate limit (events per minute; null = none)',
        security: bearer,
        params: keyParams,
        body: z.object({
          label: text(200).optional(),
          enabled: z.boolean().optional(),
          rateLimitPerMinute: rateLimit.optional(),
        }),
        response: { 200: keyOut },
      },
    },
    async (req) => projects.updateKey(ctx, await principal(req), req.params.id, req.params.keyId, req.body),
  );

  for (const [action, enabled] of [
    ['disable', false],
    ['enable', true],
  ] as const)
    app.post(
      `/api/v1/projects/:id/keys/:keyId/${action}`,
      { schema: { tags: ['keys'], security: bearer, params: keyParams, response: { 200: keyOut } } },
      async (req) =>
        projects.updateKey(ctx, await principal(req), req.params.id, req.params.keyId, { enabled }),
    );

  app.post(
    '/api/v1/projects/:id/keys/:keyId/rotate',
    {
      schema: {
        tags: ['keys'],
        summary: 'Replace the secret key (shown once); the public key and DSN stay the same',
        security: bearer,
        params: keyParams,
        response: { 200: keyWithSecretOut },
      },
    },
    async (req) => projects.rotateKey(ctx, await principal(req), req.params.id, req.params.keyId),
  );

  app.delete(
    '/api/v1/projects/:id/keys/:keyId',
    { schema: { tags: ['keys'], security: bearer, params: keyParams } },
    async (req, reply) => {
      await projects.deleteKey(ctx, await principal(req), req.params.id, req.params.keyId);
      return reply.code(204).send();
    },
  );

  /* --------------------------------- tokens --------------------------------- */

  app.post(
    '/api/v1/tokens',
    {
      schema: {
        tags: ['tokens'],
        summary: 'Create a personal API token (shown once) for the CLI and automation',
        security: bearer,
        body: z.object({
          name,
          scope: z.enum(['read', 'write']).default('read'),
          expiresInDays: z.number().int().min(1).max(3650).optional(),
        }),
        response: { 201: tokenOut.extend({ token: z.string() }) },
      },
    },
    async (req, reply) =>
      reply.code(201).send(await tokens.createApiToken(ctx, await principal(req), req.body)),
  );

  app.get(
    '/api/v1/tokens',
    { schema: { tags: ['tokens'], security: bearer, response: { 200: z.array(tokenOut) } } },
    async (req) => tokens.listApiTokens(ctx, await principal(req)),
  );

  app.delete(
    '/api/v1/tokens/:id',
    { schema: { tags: ['tokens'], security: bearer, params: z.object({ id }) } },
    async (req, reply) => {
      await tokens.revokeApiToken(ctx, await principal(req), req.params.id);
      return reply.code(204).send();
    },
  );
}
