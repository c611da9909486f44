import { createServer, type IncomingMessage, type Server } from 'node:http';

/**
 * A local stand-in for an LLM server speaking the real request/response shapes of Ollama's
 * /api/chat and OpenAI's /v1/chat/completions. `behave` decides each answer.
 */
export type Behaviour =
  | { kind: 'answer'; content: string }
  | { kind: 'slow'; ms: number; content: string }
  | { kind: 'status'; status: number; body?: string }
  | { kind: 'raw'; body: string };

export interface FakeLlm {
  url: string;
  requests: Array<{
    path: string;
    headers: IncomingMessage['headers'];
    body: Record<string, unknown>;
    raw: string;
  }>;
  behave: (n: number) => Behaviour;
  close(): Promise<void>;
}

export async function startFakeLlm(behave: (n: number) => Behaviour): Promise<FakeLlm> {
  const fake: FakeLlm = { url: '', requests: [], behave, close: async () => {} };
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (d) => {
      raw += d;
    });
    req.on('end', () => {
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(raw) as Record<string, unknown>;
      } catch {}
      fake.requests.push({ path: req.url ?? '', headers: req.headers, body, raw });
      const b = fake.behave(fake.requests.length);
      const send = (content: string) => {
        const model = String(body.model ?? 'm');
        const payload =
          req.url === '/api/chat'
            ? {
                model,
                created_at: new Date().toISOString(),
                message: { role: 'assistant', content },
                done: true,
                done_reason: 'stop',
              }
            : {
                id: 'chatcmpl-1',
                object: 'chat.completion',
                created: Math.floor(Date.now() / 1000),
                model,
                choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
                usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
              };
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(payload));
      };
      if (b.kind === 'answer') send(b.content);
      else if (b.kind === 'slow') {
        const t = setTimeout(() => send(b.content), b.ms);
        res.on('close', () => clearTimeout(t));
      } else if (b.kind === 'status')
        res
          .writeHead(b.status, { 'content-type': 'application/json' })
          .end(b.body ?? JSON.stringify({ error: 'model overloaded' }));
      else res.writeHead(200, { 'content-type': 'application/json' }).end(b.body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  fake.url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  fake.close = () =>
    new Promise((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  return fake;
}

export const goodAnswer = JSON.stringify({
  probableCause: 'cart.items is undefined when the session expired',
  whereToLook: 'src/cart.ts checkout()',
  suggestedFix: 'Guard against a missing cart and redirect to sign-in',
  confidence: 'medium',
});
