/**
 * Raw HTTP against the platform, for requests a client library would refuse or rewrite
 * (percent-encoded NULs, oversized headers, bodies that are not JSON), and the checks that every
 * error answer is in OpenAI's shape and that the platform is still healthy afterwards.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { loadOpenAISpecValidators, type OpenAISpecValidators } from '@turnpike/testing';
import { client, ctx, marker } from './context.js';

export interface RawAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  /** The parsed body when it is JSON, else undefined. */
  json: unknown;
}

export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | number | null };
}

export interface SendOptions {
  /** `tenant` (the first tenant's key, default), `admin` (the admin token), `none`, or a bearer token. */
  auth?: 'tenant' | 'admin' | 'none' | { bearer: string };
  headers?: Record<string, string>;
  /** A string or Buffer is sent as is; anything else as JSON. */
  body?: unknown;
  /** Defaults to the first gateway. */
  base?: string;
  timeoutMs?: number;
}

function authHeader(auth: SendOptions['auth']): Record<string, string> {
  if (auth === 'none') return {};
  if (auth === 'admin') return { authorization: `Bearer ${ctx().adminToken}` };
  if (typeof auth === 'object') return { authorization: `Bearer ${auth.bearer}` };
  return { authorization: `Bearer ${ctx().tenants[0]!.key}` };
}

/**
 * One request on a fresh connection, the path sent exactly as given. Resolves with whatever the
 * server answered, even when it closed the connection right after (431, 413).
 */
export function send(method: string, path: string, opts: SendOptions = {}): Promise<RawAnswer> {
  const body =
    opts.body === undefined
      ? undefined
      : typeof opts.body === 'string' || Buffer.isBuffer(opts.body)
        ? opts.body
        : JSON.stringify(opts.body);
  const headers: Record<string, string> = {
    ...authHeader(opts.auth),
    ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    ...opts.headers,
    // Framed explicitly: Node sends a GET/DELETE body unframed otherwise (no chunked encoding).
    ...(body !== undefined ? { 'content-length': String(Buffer.byteLength(body)) } : {}),
  };
  const url = new URL(opts.base ?? ctx().gatewayUrl);
  return new Promise<RawAnswer>((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        method,
        path,
        headers,
        agent: false,
        timeout: opts.timeoutMs ?? 30_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          if (String(res.headers['content-type']).startsWith('application/json')) {
            try {
              json = JSON.parse(text);
            } catch {
              json = undefined;
            }
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer in time`)));
    req.on('error', reject);
    req.end(body);
  });
}

let validators: OpenAISpecValidators | undefined;
const spec = (): OpenAISpecValidators => (validators ??= loadOpenAISpecValidators());

/**
 * Checks that `r` is an error answer in OpenAI's shape (validated against OpenAI's published
 * `ErrorResponse`), JSON, with an `X-Trace-Id`; and its status, code and param when given.
 */
export function assertOpenAIError(
  r: RawAnswer,
  status: number,
  expect: { code?: string | null; param?: string | null; message?: RegExp } = {},
): OpenAIErrorBody['error'] {
  const what = `${r.status} ${r.text.slice(0, 500)}`;
  assert.equal(r.status, status, what);
  assert.match(String(r.headers['content-type']), /^application\/json/, what);
  assert.deepEqual(spec().errorResponse(r.json), [], what);
  assert.match(String(r.headers['x-trace-id']), /^[0-9a-f]{32}$/, `X-Trace-Id: ${what}`);
  const e = (r.json as OpenAIErrorBody).error;
  if (expect.code !== undefined) assert.equal(e.code, expect.code, what);
  if (expect.param !== undefined) assert.equal(e.param, expect.param, what);
  if (expect.message !== undefined) assert.match(e.message, expect.message, what);
  return e;
}

/** Every service answers `/health/ready` with 200, and a normal completion still works. */
export async function assertPlatformHealthy(): Promise<void> {
  for (const s of ctx().services) {
    const res = await fetch(`${s.url}/health/ready`);
    assert.equal(res.status, 200, `${s.name} (pid ${s.pid}): ${await res.text()}`);
  }
  const text = `${marker('healthy')} still serving`;
  const data = await client().chat.completions.create({
    model: 'turnpike/sim-small',
    messages: [{ role: 'user', content: `${text} [[sim tokens=3]]` }],
  });
  assert.equal(data.choices[0]?.finish_reason, 'stop');
  assert.equal(data.usage?.completion_tokens, 3);
}
