/**
 * `callUpstream` against a real local HTTP server (the upstream) and a closed port: every
 * failure reaches the caller through the one error policy, with nothing of the provider key and
 * no address in what a client would see.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { UpstreamError } from '../errors/index.js';
import { openaiProvider } from '../openai/openai.provider.js';
import {
  callUpstream,
  createUpstreamAgent,
  safeNativeReason,
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

async function failure(stream: boolean, url = baseUrl, deadlineMs = 5_000): Promise<UpstreamError> {
  const events: UpstreamEvent[] = [];
  try {
    for await (const ev of callUpstream({
      adapter: openaiProvider,
      connection: { baseUrl: url, credentials: { type: 'api_key', apiKey: KEY } },
      call: {
        body: { model: 'x', messages: [{ role: 'user', content: 'hi' }] },
        upstreamModel: 'm',
        stream,
      },
      requireParameters: false,
      signal: new AbortController().signal,
      deadlineAt: Date.now() + deadlineMs,
      dispatcher: agent,
    }))
      events.push(ev);
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
