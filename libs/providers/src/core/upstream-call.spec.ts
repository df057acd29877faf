/**
 * `callUpstream` against a real local HTTP server (the upstream) and a closed port: every
 * failure reaches the caller through the one error policy, with nothing of the provider key and
 * no address in what a client would see; a stream silent past its stall limit is ended; malformed
 * events are skipped up to the tolerance.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { UpstreamError } from '../errors/index.js';
import { openaiProvider } from '../openai/openai.provider.js';
import type { Json } from './json.js';
import {
  callUpstream,
  createUpstreamAgent,
  safeNativeReason,
  type UpstreamCallOptions,
  type UpstreamEvent,
} from './upstream-call.js';

/** A provider key without any known prefix: only the last-line guard can catch it. */
const KEY = 'zq7Hk2Lm9Np4Rs6Tv8Wx';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;
let handler: Handler = (_req, res) => res.end();
let server: http.Server;
let baseUrl: string;
const agent = createUpstreamAgent();

before(async () => {
  server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => handler(req, res));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});
after(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  await agent.close();
});

/** A small chat to the test server (or `url`) with our key. */
function options(
  stream: boolean,
  o: { url?: string; deadlineMs?: number; stallTimeoutMs?: number } = {},
): UpstreamCallOptions {
  return {
    adapter: openaiProvider,
    connection: { baseUrl: o.url ?? baseUrl, credentials: { type: 'api_key', apiKey: KEY } },
    call: {
      body: { model: 'x', messages: [{ role: 'user', content: 'hi' }] },
      upstreamModel: 'm',
      stream,
    },
    requireParameters: false,
    signal: new AbortController().signal,
    deadlineAt: Date.now() + (o.deadlineMs ?? 20_000),
    dispatcher: agent,
    ...(o.stallTimeoutMs !== undefined ? { stallTimeoutMs: o.stallTimeoutMs } : {}),
  };
}

async function failure(stream: boolean, url = baseUrl, deadlineMs = 5_000): Promise<UpstreamError> {
  const events: UpstreamEvent[] = [];
  try {
    for await (const ev of callUpstream(options(stream, { url, deadlineMs }))) events.push(ev);
  } catch (e) {
    assert.ok(e instanceof UpstreamError, `expected an UpstreamError, got ${String(e)}`);
    return e;
  }
  assert.fail(`expected a failure, got ${JSON.stringify(events)}`);
}

/** What a client would see holds no piece of the key, no address. */
function assertClean(e: UpstreamError, port?: string): void {
  const seen = JSON.stringify(e.reply);
  for (let i = 0; i + 4 <= KEY.length; i++)
    assert.ok(!seen.includes(KEY.slice(i, i + 4)), `key piece ${KEY.slice(i, i + 4)} in ${seen}`);
  assert.ok(!seen.includes('127.0.0.1'), seen);
  if (port) assert.ok(!seen.includes(port), seen);
}

const json =
  (status: number, body: unknown, headers: Record<string, string> = {}): Handler =>
  (_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };

describe('callUpstream failures go through the error policy', () => {
  test("a 401 quoting a fragment of our key: the client's view has none of it", async () => {
    handler = json(401, {
      error: {
        message: `Incorrect API key provided: ${KEY.slice(0, 6)}********${KEY.slice(-4)}.`,
        type: 'invalid_request_error',
        param: null,
        code: 'invalid_api_key',
      },
    });
    for (const stream of [false, true]) {
      const e = await failure(stream);
      assert.equal(e.reply.status, 502);
      assert.equal(e.reply.code, 'upstream_auth_failed');
      assertClean(e);
      assert.equal(e.detail.providerCode, 'invalid_api_key');
      assert.match(e.detail.providerMessage!, /Incorrect API key provided/);
    }
  });

  test('a 400 that quotes the whole key: the pass-through loses it (the last guard)', async () => {
    handler = json(400, {
      error: { message: `Bad header value ${KEY} for this model`, code: null },
    });
    const e = await failure(false);
    assert.equal(e.reply.status, 400);
    assert.match(e.reply.message, /^Bad header value .* for this model$/);
    assertClean(e);
    assert.ok(!e.detail.providerMessage!.includes(KEY), 'nor do the operators get the key');
  });

  test("a proxy's HTML 502 page is never echoed", async () => {
    handler = (_req, res) => {
      res.writeHead(502, { 'content-type': 'text/html' });
      res.end(
        '<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx/1.25.3</center></body></html>',
      );
    };
    const e = await failure(true);
    assert.equal(e.reply.status, 502);
    assert.equal(e.reply.message, 'The upstream provider returned an error (HTTP 502).');
    assert.match(e.detail.providerMessage!, /nginx/);
  });

  test('a 429 keeps its Retry-After', async () => {
    handler = json(
      429,
      { error: { message: 'Rate limit reached for org-Ab12Cd34Ef', code: 'rate_limit_exceeded' } },
      { 'retry-after': '3' },
    );
    const e = await failure(false);
    assert.equal(e.reply.status, 503);
    assert.equal(e.reply.retryAfterSec, 3);
    assert.ok(!e.reply.message.includes('org-'));
  });

  test('an error event inside the stream, after the first chunk', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(
        `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content: 'Hi' }, finish_reason: null }] })}\n\n`,
      );
      res.end(
        `event: error\ndata: ${JSON.stringify({ error: { message: `upstream 10.1.2.3:9000 failed with key ${KEY}`, type: 'server_error' } })}\n\n`,
      );
    };
    const e = await failure(true);
    assert.equal(e.reply.status, 502);
    assert.equal(e.reply.code, 'upstream_error');
    assert.equal(e.reply.message, 'The upstream provider reported an error during the response.');
    assertClean(e);
  });

  test('a connection reset', async () => {
    handler = (req) => req.socket.resetAndDestroy();
    const e = await failure(false);
    assert.equal(e.reply.status, 502);
    assert.equal(e.reply.code, 'upstream_connection_error');
    assert.match(e.reply.message, /closed unexpectedly/);
    assertClean(e);
  });

  test('a refused connection names no address', async () => {
    // A port that was free a moment ago and is closed now.
    const probe = http.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = String((probe.address() as AddressInfo).port);
    await new Promise((r) => probe.close(r));
    const e = await failure(false, `http://127.0.0.1:${port}/v1`);
    assert.equal(e.reply.status, 502);
    assert.equal(e.reply.code, 'upstream_connection_error');
    assert.equal(e.reply.message, 'The upstream provider refused the connection.');
    assertClean(e, port);
    assert.match(e.detail.providerCode!, /ECONNREFUSED/);
    assert.ok(e.detail.providerMessage!.includes(port), 'operators see where');
  });

  test('a deadline already past: 504 before any call', async () => {
    const e = await failure(false, baseUrl, -1);
    assert.equal(e.reply.status, 504);
    assert.equal(e.reply.code, 'timeout');
  });
});

test('a native finish reason is kept printable and bounded (Postgres refuses a NUL)', () => {
  assert.equal(safeNativeReason('end_turn'), 'end_turn');
  assert.equal(safeNativeReason('stop\u0000'), 'stop');
  assert.equal(safeNativeReason('\u0000\u0001'), null);
  assert.equal(safeNativeReason('x'.repeat(100))?.length, 64);
  assert.equal(safeNativeReason(null), null);
});

const chunkLine = (content: string): string =>
  `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`;
const FINISH =
  `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })}\n\n` +
  'data: [DONE]\n\n';

interface Run {
  events: UpstreamEvent[];
  /** performance.now() when each event was received. */
  at: number[];
  error: UpstreamError | null;
  /** performance.now() when the call failed. */
  failedAt: number;
}

/** Streams from the test server with a stall limit; what came, when, and how it ended. */
async function streamed(stallTimeoutMs: number, stream = true): Promise<Run> {
  const run: Run = { events: [], at: [], error: null, failedAt: 0 };
  try {
    for await (const ev of callUpstream(options(stream, { stallTimeoutMs }))) {
      run.events.push(ev);
      run.at.push(performance.now());
    }
  } catch (e) {
    run.failedAt = performance.now();
    assert.ok(e instanceof UpstreamError, `expected an UpstreamError, got ${String(e)}`);
    run.error = e;
  }
  return run;
}

/** Writes `parts` with `gapMs` between them, then (if given) `end` and ends the response. */
const paced =
  (parts: string[], gapMs: number, end?: string): Handler =>
  (req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.flushHeaders();
    let i = 0;
    const timer = setInterval(() => {
      if (i < parts.length) res.write(parts[i++]!);
      else {
        clearInterval(timer);
        if (end !== undefined) res.end(end);
      }
    }, gapMs);
    res.on('close', () => clearInterval(timer));
    req.socket.on('close', () => clearInterval(timer));
  };

/**
 * The stall limit is the longest silence between two EVENTS of the stream. Timers never fire
 * early; on a busy 2-core machine they may fire late, so the upper bounds are generous but well
 * below what a missed stall would take (the server never ends these streams by itself).
 */
describe('callUpstream: the stall limit', () => {
  const LIMIT = 800;
  const assertStalled = (r: Run, from: number) => {
    assert.ok(r.error, 'the call failed');
    assert.equal(r.error.reply.code, 'upstream_stalled');
    assert.equal(r.error.reply.status, 504);
    assert.equal(r.error.reply.retryable, true);
    assert.match(r.error.reply.message, /stopped sending/);
    const silent = r.failedAt - from;
    assert.ok(
      silent >= LIMIT - 5,
      `failed after ${silent.toFixed(0)} ms of silence (limit ${LIMIT})`,
    );
    assert.ok(
      silent < LIMIT + 1500,
      `failed after ${silent.toFixed(0)} ms of silence (limit ${LIMIT})`,
    );
  };

  test('a stall after the first token', async () => {
    handler = paced([chunkLine('Hello'), chunkLine(' there')], 10);
    const r = await streamed(LIMIT);
    assert.equal(r.events.filter((e) => e.type === 'chunk').length, 2);
    assertStalled(r, r.at.at(-1)!);
  });

  test('before the first event a silence is no stall (the first-token limit bounds it), after it it is', async () => {
    // Headers at once, then 2.5 limits of silence (a model thinking), then one token and silence.
    let headersAt = 0;
    handler = (req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.flushHeaders();
      headersAt = performance.now();
      const t = setTimeout(() => res.write(chunkLine('Hi')), LIMIT * 2.5);
      req.socket.on('close', () => clearTimeout(t));
    };
    const r = await streamed(LIMIT);
    assert.equal(r.events.length, 1, 'the late first token was delivered');
    assert.ok(r.at[0]! - headersAt >= LIMIT * 2.5 - 5);
    assertStalled(r, r.at[0]!);
  });

  test('an error body that never comes: stalled from the headers', async () => {
    let headersAt = 0;
    handler = (_req, res) => {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.flushHeaders();
      headersAt = performance.now();
    };
    const r = await streamed(LIMIT);
    assert.equal(r.events.length, 0);
    assertStalled(r, headersAt);
  });

  test('keep-alive comments are not events: they do not hold a stall off', async () => {
    handler = paced([chunkLine('Hi'), ...Array<string>(40).fill(': keep-alive\n\n')], 100);
    const r = await streamed(LIMIT);
    assert.equal(r.events.length, 1);
    assertStalled(r, r.at[0]!);
  });

  test('nor does a trickle of bytes that never completes an event (undici would reset on it)', async () => {
    const trickle =
      'data: {"id":"c","object":"chat.completion.chunk","choices":[{"delta":{"content":"x';
    handler = paced([chunkLine('Hi'), ...trickle.split('')], 50);
    const r = await streamed(LIMIT);
    assert.equal(r.events.length, 1);
    assertStalled(r, r.at[0]!);
  });

  test('events closer together than the limit: never a stall, however long the stream', async () => {
    const parts = Array.from({ length: 6 }, (_, i) => chunkLine(`w${i} `));
    handler = paced(parts, LIMIT / 2, FINISH);
    const r = await streamed(LIMIT);
    assert.equal(r.error, null, r.error?.message);
    assert.equal(r.events.filter((e) => e.type === 'chunk').length, 7);
    assert.equal(r.events.at(-1)?.type, 'end');
  });

  test('a whole (non-streamed) body that stops half-way: stalled too', async () => {
    let headersAt = 0;
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '400' });
      res.write('{"id":"c","object":"chat.completion","choices":[');
      headersAt = performance.now();
    };
    const r = await streamed(LIMIT, false);
    assert.equal(r.error?.reply.code, 'upstream_stalled');
    // undici's body timeout runs on a coarse clock: it may fire up to ~0.5 s early or late.
    const silent = r.failedAt - headersAt;
    assert.ok(silent > LIMIT - 600 && silent < LIMIT + 2000, `${silent.toFixed(0)} ms`);
  });
});

describe('callUpstream: malformed stream events', () => {
  const GARBAGE = 'data: {"id":"c","object":"chat.comp\n\n';

  test('three in a row amid good events: skipped, reported, the answer whole', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(
        chunkLine('one ') +
          GARBAGE +
          GARBAGE +
          GARBAGE +
          chunkLine('two ') +
          GARBAGE +
          chunkLine('three') +
          FINISH,
      );
    };
    const r = await streamed(5_000);
    assert.equal(r.error, null, r.error?.message);
    const text = r.events
      .flatMap((e) => (e.type === 'chunk' ? [(e.chunk['choices'] as Json[])[0]?.['delta']] : []))
      .map((d) => ((d as Json | undefined)?.['content'] as string | undefined) ?? '')
      .join('');
    assert.equal(text, 'one two three');
    assert.equal(r.events.filter((e) => e.type === 'malformed').length, 4);
    const end = r.events.at(-1)!;
    assert.ok(end.type === 'end');
    assert.equal(end.malformedEvents, 4);
  });

  test('a fourth in a row: the attempt fails with upstream_bad_stream', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(chunkLine('one ') + GARBAGE.repeat(4) + chunkLine('two') + FINISH);
    };
    const r = await streamed(5_000);
    assert.equal(r.error?.reply.code, 'upstream_bad_stream');
    assert.equal(r.error?.reply.status, 502);
    assert.equal(r.error?.reply.retryable, true);
    assert.equal(r.events.filter((e) => e.type === 'malformed').length, 3, 'the first three');
  });

  test('more than 10 % of 20 events, none in a row: fails once 20 were read', async () => {
    const good = Array.from({ length: 17 }, (_, i) => chunkLine(`w${i} `));
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      // Events 2, 8 and 14 are garbage: 3 of the first 20.
      const events = [...good];
      for (const at of [1, 7, 13]) events.splice(at, 0, GARBAGE);
      res.end(events.join('') + FINISH);
    };
    const r = await streamed(5_000);
    assert.equal(r.error?.reply.code, 'upstream_bad_stream');
  });
});
