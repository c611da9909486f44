import { request } from 'undici';

/**
 * LLM providers for insights. Two real APIs: Ollama's `/api/chat` and the OpenAI-compatible
 * `/chat/completions` (vLLM, llama.cpp server, LM Studio, OpenAI itself). Streaming is off,
 * every call has a timeout, and answers are bounded in size.
 */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface ChatOptions {
  timeoutMs?: number;
  /** Aborts the call (e.g. on shutdown); the error is retryable. */
  signal?: AbortSignal;
}

export interface InsightProvider {
  readonly name: 'ollama' | 'openai';
  readonly model: string;
  chat(messages: ChatMessage[], opts?: ChatOptions): Promise<string>;
}

export class ProviderError extends Error {
  constructor(
    message: string,
    /** Worth retrying later (timeouts, 5xx, connection errors) rather than a permanent refusal. */
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = 'ProviderError';
  }
}

const MAX_RESPONSE_BYTES = 1024 * 1024;

async function postJson(
  url: string,
  body: unknown,
  headers: Record<string, string>,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<unknown> {
  let res: Awaited<ReturnType<typeof request>>;
  try {
    res = await request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      signal: signal
        ? AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)])
        : AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    const e = err as { code?: string; name?: string; message?: string };
    const what =
      e.name === 'TimeoutError' || e.code?.includes('TIMEOUT')
        ? `timed out after ${timeoutMs} ms`
        : (e.code ?? e.message);
    throw new ProviderError(`provider unreachable: ${what}`, true);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.body) {
    size += (chunk as Buffer).length;
    if (size > MAX_RESPONSE_BYTES) {
      res.body.destroy();
      throw new ProviderError('provider answer too large', false);
    }
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (res.statusCode >= 400) {
    const retryable = res.statusCode >= 500 || res.statusCode === 429 || res.statusCode === 408;
    throw new ProviderError(`provider answered HTTP ${res.statusCode}: ${text.slice(0, 200)}`, retryable);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new ProviderError('provider answer is not JSON', true);
  }
}

/** Ollama: POST {url}/api/chat {model, messages, stream:false, format:'json'} → {message:{content}}. */
export class OllamaProvider implements InsightProvider {
  readonly name = 'ollama' as const;
  constructor(
    readonly url: string,
    readonly model: string,
    private readonly timeoutMs = 120_000,
  ) {}

  async chat(messages: ChatMessage[], opts: ChatOptions = {}): Promise<string> {
    const data = (await postJson(
      `${this.url.replace(/\/+$/, '')}/api/chat`,
      { model: this.model, messages, stream: false, format: 'json', options: { temperature: 0.2 } },
      {},
      opts.timeoutMs ?? this.timeoutMs,
      opts.signal,
    )) as { message?: { content?: unknown }; error?: string };
    if (typeof data.error === 'string') throw new ProviderError(`ollama: ${data.error}`, false);
    const content = data.message?.content;
    if (typeof content !== 'string') throw new ProviderError('ollama answer has no message.content', true);
    return content;
  }
}

/**
 * OpenAI-compatible: POST {url}/chat/completions (url is the API base, e.g. http://host/v1)
 * {model, messages, stream:false, response_format:{type:'json_object'}} → {choices:[{message:{content}}]}.
 */
export class OpenAiProvider implements InsightProvider {
  readonly name = 'openai' as const;
  constructor(
    readonly url: string,
    readonly model: string,
    private readonly apiKey?: string,
    private readonly timeoutMs = 120_000,
  ) {}

  async chat(messages: ChatMessage[], opts: ChatOptions = {}): Promise<string> {
    const base = this.url.replace(/\/+$/, '');
    const endpoint = base.endsWith('/chat/completions') ? base : `${base}/chat/completions`;
    const data = (await postJson(
      endpoint,
      {
        model: this.model,
        messages,
        stream: false,
        temperature: 0.2,
        response_format: { type: 'json_object' },
      },
      this.apiKey ? { authorization: `Bearer ${this.apiKey}` } : {},
      opts.timeoutMs ?? this.timeoutMs,
      opts.signal,
    )) as { choices?: Array<{ message?: { content?: unknown } }> };
    const content = data.choices?.[0]?.message?.content;
    if (typeof content !== 'string')
      throw new ProviderError('answer has no choices[0].message.content', true);
    return content;
  }
}

export function providerFromConfig(insights: {
  ollama?: { url: string; model: string };
  openai?: { url: string; model: string; apiKey?: string };
}): InsightProvider | undefined {
  if (insights.openai)
    return new OpenAiProvider(insights.openai.url, insights.openai.model, insights.openai.apiKey);
  if (insights.ollama) return new OllamaProvider(insights.ollama.url, insights.ollama.model);
  return undefined;
}
