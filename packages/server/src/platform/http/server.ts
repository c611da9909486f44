import { randomUUID } from 'node:crypto';
import fastifySwagger from '@fastify/swagger';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, LogController } from 'fastify';
import {
  hasZodFastifySchemaValidationErrors,
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import { AppError, httpStatusOf } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';

export type HttpApp = FastifyInstance<
  import('node:http').Server,
  import('node:http').IncomingMessage,
  import('node:http').ServerResponse,
  import('fastify').FastifyBaseLogger,
  ZodTypeProvider
>;

export interface HttpOptions {
  log: Logger;
  metrics: Metrics;
  bodyLimit: number;
  trustProxy?: boolean;
}

/** The one error shape every route answers with. */
export function errorBody(code: string, message: string, details?: unknown) {
  return { error: details === undefined ? { code, message } : { code, message, details } };
}

/**
 * Fastify with zod validation at the edge, one error shape, request ids, metrics per route,
 * body limits, and an OpenAPI document built from the route schemas.
 */
export async function createHttpServer(opts: HttpOptions): Promise<HttpApp> {
  const app = Fastify({
    loggerInstance: opts.log.child({ component: 'http' }) as import('fastify').FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: opts.bodyLimit,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && /^[\w.-]{1,100}$/.test(given) ? given : randomUUID();
    },
    trustProxy: opts.trustProxy ?? false,
    routerOptions: { ignoreTrailingSlash: true },
    // Errors raised before routing (a malformed %-escape in the path) get the one error shape too.
    frameworkErrors: (err, req, reply) => {
      (reply as FastifyReply)
        .code(400)
        .header('x-request-id', req.id)
        .send(errorBody('bad_request', err.message));
    },
  }).withTypeProvider<ZodTypeProvider>();

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  await app.register(fastifySwagger, {
    openapi: {
      info: {
        title: 'Beacon API',
        version: '1.0.0',
        description: 'Error tracking, uptime monitoring and alerting',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'JWT access token or personal API token' },
        },
      },
    },
    transform: jsonSchemaTransform,
    hideUntagged: false,
  });
  app.get('/api/v1/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  // Graceful close: requests in flight finish, but their keep-alive connections would then hold
  // server.close() open until the client's idle timeout (72 s). Answer them with
  // `Connection: close`, and reap whatever went idle once each response is out.
  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  app.addHook('onSend', async (req, reply, payload) => {
    reply.header('x-request-id', req.id);
    if (closing) reply.header('connection', 'close');
    return payload;
  });
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    const labels = { method: req.method, route, status: String(reply.statusCode) };
    opts.metrics.httpRequests.inc(labels);
    opts.metrics.httpDuration.observe(labels, reply.elapsedTime / 1000);
    if (reply.statusCode >= 500)
      req.log.warn({ route, status: reply.statusCode, reqId: req.id }, 'request failed');
    if (closing) app.server.closeIdleConnections();
  });

  app.setNotFoundHandler((req, reply) => {
    reply.code(404).send(errorBody('not_found', `no route for ${req.method} ${req.url.split('?')[0]}`));
  });

  app.setErrorHandler((err: FastifyError | AppError | Error, req, reply) => {
    if (err instanceof AppError) {
      for (const [k, v] of Object.entries(err.extra.headers ?? {})) reply.header(k, v);
      return reply.code(httpStatusOf[err.code]).send(errorBody(err.code, err.message, err.extra.details));
    }
    if (hasZodFastifySchemaValidationErrors(err)) {
      const first = err.validation[0];
      const where = err.validationContext ?? 'request';
      const field = first?.instancePath ? `${where}${first.instancePath.replaceAll('/', '.')}` : where;
      return reply.code(400).send(
        errorBody('bad_request', `invalid ${field}: ${first?.message ?? 'validation failed'}`, {
          issues: err.validation.map((v) => ({ path: v.instancePath, message: v.message })),
        }),
      );
    }
    const fe = err as FastifyError;
    const status = fe.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      const code =
        status === 413
          ? 'payload_too_large'
          : status === 415
            ? 'unsupported_media_type'
            : status === 429
              ? 'rate_limited'
              : status === 404
                ? 'not_found'
                : 'bad_request';
      return reply.code(status).send(errorBody(code, fe.message));
    }
    req.log.error({ err, reqId: req.id }, 'unhandled error');
    return reply.code(500).send(errorBody('internal', `internal error (request ${req.id})`));
  });

  return app;
}
