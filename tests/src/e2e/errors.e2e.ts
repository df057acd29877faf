/**
 * Every error leaves the gateway in OpenAI's error shape with the right status, whether the
 * request was bad, the caller unknown, or the upstream failed; and the platform stays healthy.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { loadOpenAISpecValidators, type OpenAISpecValidators } from '@turnpike/testing';
import { client, ctx, marker } from '../support/context.js';

let spec: OpenAISpecValidators;
before(() => {
  spec = loadOpenAISpecValidators();
});

interface Raw {
  status: number;
  headers: Headers;
  body: { error: { message: string; type: string; param: string | null; code: string | null } };
}

async function post(body: string | Buffer, headers: Record<string, string> = {}): Promise<Raw> {
  const res = await fetch(`${ctx().gatewayUrl}/v1/chat/completions`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${ctx().tenants[0]!.key}`,
      'content-type': 'application/json',
      ...headers,
    },
    body,
  });
  const raw = { status: res.status, headers: res.headers, body: (await res.json()) as Raw['body'] };
  assert.deepEqual(spec.errorResponse(raw.body), [], JSON.stringify(raw.body));
  assert.equal(res.headers.get('content-type')?.startsWith('application/json'), true);
  return raw;
}

const chat = (content: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ model: 'turnpike/sim-small', messages: [{ role: 'user', content }], ...extra });

async function expectApiError(
  p: Promise<unknown>,
  status: number,
  code?: string | null,
): Promise<InstanceType<typeof OpenAI.APIError>> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof OpenAI.APIError, `expected an APIError, got ${String(e)}`);
    assert.equal(e.status, status, e.message);
    if (code !== undefined) assert.equal(e.code, code);
    return e;
  }
  assert.fail(`expected HTTP ${status}`);
}

describe('client errors', () => {
  test('400: the body is not JSON', async () => {
    const r = await post('{"model": "turnpike/sim-small", "messages": [');
    assert.equal(r.status, 400);
    assert.equal(r.body.error.type, 'invalid_request_error');
    assert.match(r.body.error.message, /JSON/);
  });

  test('400: the body is JSON but not an object', async () => {
    const r = await post('[1,2,3]');
    assert.equal(r.status, 400);
  });

  test('400: schema violations name the parameter', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ temperature: 3 }, 'temperature'],
      [{ max_tokens: 0 }, 'max_tokens'],
      [{ stream_options: { include_usage: true } }, 'stream_options'],
      [{ messages: [] }, 'messages'],
      [{ messages: [{ role: 'tool', content: 'x' }] }, 'messages[0].tool_call_id'],
      [{ stop: ['a', 'b', 'c', 'd', 'e'] }, 'stop'],
    ];
    for (const [extra, param] of cases) {
      const r = await post(chat('hi', extra));
      assert.equal(r.status, 400, JSON.stringify(extra));
      assert.equal(r.body.error.param, param, JSON.stringify(r.body));
      assert.match(
        r.headers.get('x-generation-id') ?? '',
        /^gen-\d+-/,
        'errors carry a generation id too',
      );
    }
    // The SDK sees a BadRequestError.
    const e = await expectApiError(
      client().chat.completions.create({
        model: 'turnpike/sim-small',
        messages: [{ role: 'user', content: 'x' }],
        top_p: 7,
      }),
      400,
    );
    assert.ok(e instanceof OpenAI.BadRequestError);
  });

  test('401: no key, a malformed header, an unknown key', async () => {
    for (const headers of [
      {},
      { authorization: 'Basic abc' },
      { authorization: 'Bearer sk-tp-v1-nope' },
    ]) {
      const res = await fetch(`${ctx().gatewayUrl}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: chat('hi'),
      });
      assert.equal(res.status, 401);
      const body = (await res.json()) as Raw['body'];
      assert.deepEqual(spec.errorResponse(body), []);
      assert.equal(body.error.code, 'invalid_api_key');
      assert.doesNotMatch(body.error.message, /sk-tp-v1-nope/, 'the key is masked in the message');
    }
    const bad = new OpenAI({
      baseURL: `${ctx().gatewayUrl}/v1`,
      apiKey: 'sk-wrong',
      maxRetries: 0,
    });
    const e = await expectApiError(
      bad.chat.completions.create({
        model: 'turnpike/sim-small',
        messages: [{ role: 'user', content: 'x' }],
      }),
      401,
    );
    assert.ok(e instanceof OpenAI.AuthenticationError);
  });

  test('401: the admin API rejects tenant keys', async () => {
    const res = await fetch(`${ctx().gatewayUrl}/admin/tenants`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${ctx().tenants[0]!.key}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ name: 'x' }),
    });
    assert.equal(res.status, 401);
  });

  test('404: an unknown model, and an unknown route', async () => {
    const e = await expectApiError(
      client().chat.completions.create({
        model: 'nobody/nothing',
        messages: [{ role: 'user', content: 'x' }],
      }),
      404,
      'model_not_found',
    );
    assert.ok(e instanceof OpenAI.NotFoundError);
    const res = await fetch(`${ctx().gatewayUrl}/v1/nope`);
    assert.equal(res.status, 404);
    assert.deepEqual(spec.errorResponse(await res.json()), []);
  });

  test('413: an oversized body is refused', async () => {
    // The gateway may answer before it has read the whole body, so read the early response
    // instead of failing on the broken pipe (fetch would report EPIPE).
    const body = Buffer.from(chat('x'.repeat(ctx().maxBodyBytes + 1024)));
    const { status, text } = await new Promise<{ status: number; text: string }>(
      (resolve, reject) => {
        const req = http.request(
          `${ctx().gatewayUrl}/v1/chat/completions`,
          {
            method: 'POST',
            headers: {
              authorization: `Bearer ${ctx().tenants[0]!.key}`,
              'content-type': 'application/json',
              'content-length': body.length,
            },
          },
          (res) => {
            let t = '';
            res.on('data', (c: Buffer) => (t += c.toString()));
            res.on('end', () => {
              resolve({ status: res.statusCode ?? 0, text: t });
              req.destroy();
            });
          },
        );
        req.on('error', (e: NodeJS.ErrnoException) => {
          if (e.code !== 'EPIPE' && e.code !== 'ECONNRESET') reject(e);
        });
        // The declared length alone is over the limit: send only the first 64 KiB and wait for
        // the answer, so a connection the server closes mid-upload cannot swallow the response.
        req.write(body.subarray(0, 64 * 1024));
      },
    );
    assert.equal(status, 413);
    const parsed = JSON.parse(text) as Raw['body'];
    assert.deepEqual(spec.errorResponse(parsed), []);
    assert.equal(parsed.error.code, 'request_too_large');
  });
});

describe('upstream failures', () => {
  test('502: the upstream answers 500', async () => {
    const m = marker('u500');
    const r = await post(chat(`${m} [[sim status=500]]`));
    assert.equal(r.status, 502);
    assert.equal(r.body.error.type, 'server_error');
    assert.match(r.headers.get('x-generation-id') ?? '', /^gen-/);
  });

  test('503 with Retry-After: the upstream rate-limits', async () => {
    const r = await post(chat(`${marker('u429')} [[sim status=429 retry_after=7]]`));
    assert.equal(r.status, 503);
    assert.equal(r.headers.get('retry-after'), '7');
  });

  test('a stream that fails before its first token gets a real error status, not a 200', async () => {
    const e = await expectApiError(
      client().chat.completions.create({
        model: 'turnpike/sim-small',
        stream: true,
        messages: [{ role: 'user', content: `${marker('s503')} [[sim status=503]]` }],
      }),
      503,
    );
    assert.ok(e instanceof OpenAI.InternalServerError);
  });

  test('a stream cut after its first token ends with an error event and [DONE], never silently', async () => {
    const res = await fetch(`${ctx().gatewayUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${ctx().tenants[0]!.key}`,
        'content-type': 'application/json',
      },
      body: chat(`${marker('cut')} [[sim cut=after_first tokens=20]]`, { stream: true }),
    });
    assert.equal(res.status, 200);
    const text = await res.text();
    const events = text.split('\n\n').filter(Boolean);
    assert.equal(events.at(-1), 'data: [DONE]');
    const last = JSON.parse(events.at(-2)!.slice('data: '.length)) as {
      error: { message: string; code: string };
      choices: Array<{ finish_reason: string }>;
    };
    assert.equal(last.choices[0]!.finish_reason, 'error');
    assert.ok(last.error.message.length > 0);
    // The official SDK raises it.
    const stream = await client().chat.completions.create({
      model: 'turnpike/sim-small',
      stream: true,
      messages: [{ role: 'user', content: `${marker('cut2')} [[sim cut=after_first tokens=20]]` }],
    });
    await assert.rejects(async () => {
      for await (const _ of stream) void _;
    }, OpenAI.APIError);
  });

  test('504: an upstream that never answers times out cleanly', async () => {
    const started = Date.now();
    const r = await post(chat(`${marker('slow')} [[sim ttft_ms=60000]]`));
    const took = Date.now() - started;
    assert.equal(r.status, 504);
    assert.ok(
      took >= ctx().requestTimeoutMs - 500 && took < ctx().requestTimeoutMs + 5000,
      `took ${took} ms`,
    );
  });

  test('a stream that stalls after its first token is ended with an error event at the deadline', async () => {
    const res = await fetch(`${ctx().gatewayUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${ctx().tenants[0]!.key}`,
        'content-type': 'application/json',
      },
      body: chat(`${marker('stall')} [[sim stall_ms=60000 stall_after=2 tokens=10]]`, {
        stream: true,
      }),
    });
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.match(text, /"finish_reason":"error"/);
    assert.ok(text.endsWith('data: [DONE]\n\n'));
  });

  test('after all of this, every service is still ready', async () => {
    for (const s of ctx().services) {
      const res = await fetch(`${s.url}/health/ready`);
      assert.equal(res.status, 200, `${s.name}: ${await res.text()}`);
    }
  });
});
