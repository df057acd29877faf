/**
 * Every error leaves the gateway in OpenAI's error shape with the right status, whether the
 * request was bad, the caller unknown, or the upstream failed; and the platform stays healthy.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { loadOpenAISpecValidators, type OpenAISpecValidators } from '@turnpike/testing';
import { catalogAdmin, client, ctx, eventually, marker } from '../support/context.js';

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

  test('a stream that stalls after its first token is ended with an error event (the stall limit)', async () => {
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

/**
 * What a tenant may read of an upstream's failure: never a credential (OpenAI's 401 quotes a
 * fragment of our provider key), never an address, never a proxy's HTML page. Each case first
 * shows that the upstream does send the leaky text, so the assertion can fail. The models are
 * this suite's own (added through the admin API), so the failures it causes leave the health of
 * the shared endpoints alone.
 */
describe('upstream failures leak nothing to the tenant', () => {
  const suffix = Math.random().toString(36).slice(2, 8);
  /** Served by the simulator `sim`. */
  const leaky = `turnpike/leaky-${suffix}`;
  /** Served by `sim-down`: a connector account whose upstream refuses connections. */
  const refused = `turnpike/refused-${suffix}`;
  /** Served by a provider in the catalog that has no account in the connector. */
  const unconfigured = `turnpike/unconfigured-${suffix}`;
  const orphan = `sim-orphan-${suffix}`;

  const sim = () => ctx().simulators.find((s) => s.id === 'sim')!;
  const simPort = () => new URL(sim().url).port;

  const admin = async (method: string, path: string, body?: unknown): Promise<number> =>
    (await catalogAdmin(method, path, body)).status;

  before(async () => {
    const endpoint = {
      upstream_model: 'sim-gpt-small',
      pricing: { prompt: '0.10', completion: '0.40' },
      context_length: 8192,
    };
    assert.equal(await admin('PUT', `providers/${orphan}`, { name: orphan, kind: 'openai' }), 200);
    const down = ctx().downUpstream.provider;
    assert.equal(await admin('PUT', `providers/${down}`, { name: down, kind: 'openai' }), 200);
    for (const [model, provider] of [
      [leaky, 'sim'],
      [refused, down],
      [unconfigured, orphan],
    ] as const) {
      assert.equal(
        await admin('PUT', `models/${model}`, { name: model, context_length: 8192 }),
        200,
      );
      assert.equal(await admin('PUT', `models/${model}/endpoints/${provider}`, endpoint), 200);
      await eventually(
        async () =>
          (await fetch(`${ctx().gatewayUrl}/v1/models/${model}/endpoints`)).status === 200,
        `${model} in the gateway's routing table`,
      );
    }
  });
  after(async () => {
    for (const model of [leaky, refused, unconfigured]) await admin('DELETE', `models/${model}`);
  });

  /** Asks the simulator directly, as the connector does (with the provider key). */
  async function direct(content: string): Promise<{ status: number; text: string }> {
    const res = await fetch(`${sim().url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${sim().apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'sim-gpt-small', messages: [{ role: 'user', content }] }),
    });
    return { status: res.status, text: await res.text() };
  }

  /** Pieces of the provider key a leak would show: the key, its random part, its masked form. */
  function keyPieces(): string[] {
    const key = sim().apiKey;
    const random = key.slice('sk-sim-'.length);
    const pieces = [key, key.slice(-4), '***', 'sk-'];
    for (let i = 0; i + 6 <= random.length; i++) pieces.push(random.slice(i, i + 6));
    return pieces;
  }

  function assertNone(where: string, text: string, pieces: string[]): void {
    for (const piece of pieces) assert.ok(!text.includes(piece), `${where}: '${piece}' in ${text}`);
  }

  /** The same request, non-streamed and streamed, through the official client: both fail. */
  async function throughClient(
    content: string,
    model: string,
  ): Promise<InstanceType<typeof OpenAI.APIError>[]> {
    const out: InstanceType<typeof OpenAI.APIError>[] = [];
    for (const stream of [false, true]) {
      out.push(
        await expectApiError(
          client().chat.completions.create({
            model,
            messages: [{ role: 'user', content: `${marker(stream ? 's' : 'u')} ${content}` }],
            stream,
          }),
          502,
        ),
      );
    }
    return out;
  }

  /** Everything the client got: the message and every field of the error object. */
  const everything = (e: InstanceType<typeof OpenAI.APIError>) =>
    `${e.message} ${JSON.stringify(e.error)}`;

  test('401 quoting a fragment of our provider key: a 502 with none of it', async () => {
    const upstream = await direct('x [[sim status=401]]');
    assert.equal(upstream.status, 401);
    assert.ok(upstream.text.includes(`****${sim().apiKey.slice(-4)}`), upstream.text);

    const upstreamWords = [
      'Incorrect API key',
      'platform.openai.com',
      'api-keys',
      'invalid_api_key',
    ];
    const raw = await post(chat(`${marker('k401')} [[sim status=401]]`, { model: leaky }));
    assert.equal(raw.status, 502);
    assert.equal(raw.body.error.code, 'upstream_auth_failed');
    assert.match(raw.body.error.message, /not a problem with your API key/);
    assertNone('raw body', JSON.stringify(raw.body), [...keyPieces(), ...upstreamWords]);

    for (const e of await throughClient('[[sim status=401]]', leaky)) {
      assert.equal(e.code, 'upstream_auth_failed');
      assertNone('client error', everything(e), [...keyPieces(), ...upstreamWords]);
    }
  });

  test("a proxy's HTML 502 page, naming the upstream's address: our own words only", async () => {
    const upstream = await direct('x [[sim status=502 body=html]]');
    assert.equal(upstream.status, 502);
    assert.ok(upstream.text.includes(`Port ${simPort()}`), upstream.text);

    const leaks = ['<', 'Apache', 'Server at', 'Bad Gateway', '127.0.0.1', simPort()];
    const raw = await post(
      chat(`${marker('h502')} [[sim status=502 body=html]]`, { model: leaky }),
    );
    assert.equal(raw.status, 502);
    assert.equal(raw.body.error.code, 'upstream_error');
    assert.equal(raw.body.error.message, 'The upstream provider returned an error (HTTP 502).');
    assertNone('raw body', JSON.stringify(raw.body), leaks);
    for (const e of await throughClient('[[sim status=502 body=html]]', leaky))
      assertNone('client error', everything(e), leaks);
  });

  test("a 400's message passes, scrubbed; an HTML 400 is not echoed", async () => {
    const secret = 'sk-live-Zx81Qw72Er63Ty54';
    const said = `Invalid 'messages': key ${secret} refused by https://llm-7.internal.example:8443/v1 for org-Ab12Cd34Ef56`;
    const raw = await post(
      chat(`${marker('s400')} [[sim status=400 message="${said}"]]`, { model: leaky }),
    );
    assert.equal(raw.status, 400);
    assert.equal(raw.body.error.type, 'invalid_request_error');
    assert.equal(
      raw.body.error.message,
      "Invalid 'messages': key [redacted] refused by [address removed] for [redacted]",
    );
    assertNone('raw body', JSON.stringify(raw.body), [secret, 'Zx81', 'internal', '8443', 'Ab12']);

    const html = await post(
      chat(`${marker('h400')} [[sim status=400 body=html]]`, { model: leaky }),
    );
    assert.equal(html.status, 400);
    assert.equal(
      html.body.error.message,
      'The upstream provider rejected the request as invalid (HTTP 400).',
    );
    assertNone('raw body', JSON.stringify(html.body), ['<', 'Apache', simPort()]);
  });

  test('connection refused: a 502 that names no host and no port', async () => {
    const leaks = [
      '127.0.0.1',
      'ECONNREFUSED',
      'connect ',
      ':1',
      new URL(ctx().downUpstream.url).host,
    ];
    const raw = await post(chat(marker('refused'), { model: refused }));
    assert.equal(raw.status, 502);
    assert.equal(raw.body.error.code, 'upstream_connection_error');
    assert.equal(raw.body.error.message, 'The upstream provider refused the connection.');
    assertNone('raw body', JSON.stringify(raw.body), leaks);
    for (const e of await throughClient('', refused)) {
      assert.equal(e.code, 'upstream_connection_error');
      assertNone('client error', everything(e), leaks);
    }
  });

  test("a provider the connector has no account for: nothing of the connector's configuration", async () => {
    const raw = await post(chat(marker('orphan'), { model: unconfigured }));
    assert.equal(raw.status, 502);
    assert.equal(raw.body.error.code, 'provider_not_configured');
    assertNone('raw body', JSON.stringify(raw.body), ['connector', 'credentials', orphan]);
  });
});
