import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, beforeEach, describe, test } from 'node:test';
import { performance } from 'node:perf_hooks';
import {
  LlmAttemptV1,
  LlmReplyV1,
  TOPICS,
  type LlmGenerateV1,
  type ProviderAccountV1,
} from '@turnpike/contracts';
import { MasterKeyRing } from '@turnpike/secrets';
import { expectedContent, startOpenAISimulator, type OpenAISimulator } from '@turnpike/simulators';
import { context } from '@turnpike/telemetry';
import { AccountBook } from './accounts/account-book.js';
import { sealPayload, signAccount } from './accounts/account-sealing.js';
import { AttemptExecutor, type ExecutorMetrics } from './attempt-executor.js';
import { InProcessTransport } from './in-process.transport.js';
import { CoalescingReplySink, DirectReplySink } from './reply-sink.js';

const quiet = { warn: () => undefined, debug: () => undefined, error: () => undefined };

/** What the executor counted, by metric and provider. */
function countingMetrics(): ExecutorMetrics & { counts: Map<string, number> } {
  const counts = new Map<string, number>();
  const add = (k: string) => counts.set(k, (counts.get(k) ?? 0) + 1);
  return {
    counts,
    malformedEvent: (p) => add(`malformed:${p}`),
    stall: (p) => add(`stall:${p}`),
    upstreamError: (p, c) => add(`error:${p}:${c}`),
    upstreamTtft: (p) => add(`ttft:${p}`),
  };
}

/**
 * Runs one attempt with the executor as the connector does (replies through a coalescing sink,
 * re-read as the gateway would through their contract), or in-process (`direct`).
 */
async function runWith(
  executor: AttemptExecutor,
  records: LlmAttemptV1[],
  req: LlmGenerateV1,
  how: 'kafka' | 'direct' = 'kafka',
) {
  const sent: Array<{ reply: LlmReplyV1; at: number; wire: string }> = [];
  records.length = 0;
  const sink =
    how === 'kafka'
      ? new CoalescingReplySink(req, async (m) => {
          const wire = JSON.stringify(m);
          sent.push({ reply: LlmReplyV1.parse(JSON.parse(wire)), at: performance.now(), wire });
        })
      : new DirectReplySink(req, (r) =>
          sent.push({ reply: r, at: performance.now(), wire: JSON.stringify(r) }),
        );
  await executor.run(req, sink, new AbortController().signal, context.active(), performance.now());
  // One reply per chunk, as the gateway's reply inbox hands them on.
  const replies = sent.flatMap(({ reply: r, at }) =>
    r.type === 'chunks'
      ? r.chunks.map((chunk) => ({
          reply: { ...r, type: 'chunk', chunk } as LlmReplyV1,
          at,
        }))
      : [{ reply: r, at }],
  );
  assert.equal(records.length, 1, 'one attempt record');
  const attempt = LlmAttemptV1.parse(JSON.parse(JSON.stringify(records[0])));
  return {
    replies,
    messages: sent.map((s) => s.reply),
    attempt,
    everything: sent.map((s) => s.wire).join('\n') + JSON.stringify(records),
  };
}

function executorFor(book: AccountBook, metrics = countingMetrics()) {
  const records: LlmAttemptV1[] = [];
  const executor = new AttemptExecutor({
    accounts: book,
    records: async (r) => void records.push(r),
    metrics,
    log: quiet,
    stallMs: 10_000,
  });
  return { executor, records, metrics };
}

/**
 * The connector's key pool on the real upstream path: accounts of one provider pointing at
 * simulators, one of them throttled or refused; the attempt must be served by another account
 * of the same provider, and the records must name the accounts (never their secrets).
 */

const ring = MasterKeyRing.parse(`t:${randomBytes(32).toString('base64')}`);
const key = (l: string) => `sk-${l}-${randomBytes(10).toString('hex')}`;

function account(
  id: string,
  providerId: string,
  baseUrl: string,
  apiKey: string,
  weight = 1,
): ProviderAccountV1 {
  const now = Date.now();
  return sign({
    v: 1,
    id,
    providerId,
    kind: 'openai',
    owner: 'platform',
    label: id,
    baseUrl,
    credentialType: 'api_key',
    status: 'active',
    weight,
    secretVersion: 1,
    revision: 1,
    secret: sealPayload({ credentials: { type: 'api_key', apiKey }, headers: {} }, id, 1, ring),
    hint: '…',
    fingerprint: `t:${'0'.repeat(64)}`,
    headerNames: [],
    createdAt: now,
    updatedAt: now,
    rotatedAt: now,
  });
}

/** As a connector with the master key writes a record (its MAC over the other fields). */
const sign = (r: Omit<ProviderAccountV1, 'mac'>): ProviderAccountV1 => signAccount(r, ring);

const idOf = (n: number) => `acct_${String(n).padStart(24, '0')}`;

let seq = 0;
function request(provider: string, stream = false): LlmGenerateV1 {
  seq++;
  return {
    v: 1,
    kind: 'generate',
    generationId: `gen-1732406400-pool${String(seq).padStart(8, '0')}`,
    attempt: 1,
    tenantId: 't',
    keyId: 'k',
    replyTo: { topic: TOPICS.llmReplies, partition: 0, instance: 'gw' },
    deadlineAt: Date.now() + 10_000,
    createdAt: Date.now(),
    endpoint: {
      id: `m/x@${provider}`,
      provider,
      upstreamModel: 'sim-gpt-small',
      pricing: {
        promptPerM: 0,
        completionPerM: 0,
        cachedReadPerM: 0,
        cacheWritePerM: 0,
        reasoningPerM: 0,
        perRequest: 0,
      },
      maxOutputTokens: null,
    },
    stream,
    body: { model: 'm/x', messages: [{ role: 'user', content: 'hello there' }], stream },
  };
}

describe('AttemptExecutor: key pools', () => {
  let simA: OpenAISimulator;
  let simB: OpenAISimulator;
  const keyA = key('a');
  const keyB = key('b');
  let book: AccountBook;
  let executor: AttemptExecutor;
  let records: LlmAttemptV1[];

  before(async () => {
    simA = await startOpenAISimulator({
      apiKey: keyA,
      name: 'a',
      defaults: { ttftMs: 0, tokensPerSecond: 0 },
    });
    simB = await startOpenAISimulator({
      apiKey: keyB,
      name: 'b',
      defaults: { ttftMs: 0, tokensPerSecond: 0 },
    });
  });
  after(async () => {
    await executor?.close();
    await Promise.all([simA.close(), simB.close()]);
  });
  beforeEach(async () => {
    simA.reset();
    simB.reset();
    await executor?.close();
    book = new AccountBook(ring);
    ({ executor, records } = executorFor(book));
  });

  async function run(req: LlmGenerateV1) {
    const r = await runWith(executor, records, req);
    return { ...r, replies: r.replies.map((x) => x.reply) };
  }

  test('a throttled account: the same attempt is served by another account of the provider', async () => {
    book.apply(idOf(1), account(idOf(1), 'p', simA.url, keyA));
    book.apply(idOf(2), account(idOf(2), 'p', simB.url, keyB));
    simA.setDefaults({ status: 429, retryAfterSec: 7 });

    const first = await run(request('p'));
    const final = first.replies.at(-1)!;
    assert.equal(final.type, 'completion');
    assert.equal(final.type === 'completion' && final.accountId, idOf(2));
    assert.equal(first.attempt.outcome, 'success');
    assert.equal(first.attempt.accountId, idOf(2));
    assert.deepEqual(first.attempt.accountFailures, [
      {
        accountId: idOf(1),
        errorCode: 'upstream_rate_limited',
        upstreamStatus: 429,
        retryAfterSec: 7,
      },
    ]);
    // The throttled account cools down on its own: the next requests go to the other at once.
    for (let i = 0; i < 3; i++) {
      const next = await run(request('p', i % 2 === 1));
      assert.equal(next.attempt.accountId, idOf(2));
      assert.deepEqual(next.attempt.accountFailures, []);
    }
    assert.equal(simA.requests().length, 1);
    assert.equal(simB.requests().length, 4);
    assert.equal(book.get(idOf(1))!.state.rateLimited, 1);
    for (const k of [keyA, keyB]) assert.ok(!first.everything.includes(k), 'a key on a topic');
  });

  test('refused credentials (401): another account serves; after N refusals the account is skipped', async () => {
    const wrong = key('wrong');
    book.apply(idOf(1), account(idOf(1), 'p', simB.url, wrong));
    book.apply(idOf(2), account(idOf(2), 'p', simB.url, keyB));
    for (let i = 0; i < 6; i++) {
      const r = await run(request('p', i % 2 === 0));
      assert.equal(r.attempt.outcome, 'success', JSON.stringify(r.attempt));
      assert.equal(r.attempt.accountId, idOf(2));
    }
    // Weighted round-robin sent the wrong key twice before its circuit opened.
    const refused = simB.requests().filter((r) => r.status === 401).length;
    assert.equal(refused, 2);
    assert.equal(book.get(idOf(1))!.state.circuit(Date.now()), 'open');
  });

  test('load is shared by weight across healthy accounts', async () => {
    book.apply(idOf(1), account(idOf(1), 'p', simA.url, keyA, 3));
    book.apply(idOf(2), account(idOf(2), 'p', simB.url, keyB, 1));
    for (let i = 0; i < 8; i++) await run(request('p'));
    assert.deepEqual([simA.requests().length, simB.requests().length], [6, 2]);
  });

  test('a lone throttled account is still asked: the upstream decides, its answer stands', async () => {
    book.apply(idOf(1), account(idOf(1), 'p', simA.url, keyA));
    simA.setDefaults({ status: 429, retryAfterSec: 30 });
    const first = await run(request('p'));
    assert.equal(first.attempt.errorCode, 'upstream_rate_limited');
    // Still throttled: the upstream says so again (no invented 503 without a call).
    const second = await run(request('p'));
    assert.equal(second.attempt.errorCode, 'upstream_rate_limited');
    assert.equal(simA.requests().length, 2);
    // The upstream recovered before the Retry-After ran out: the next request is served.
    simA.reset();
    const third = await run(request('p'));
    assert.equal(third.replies.at(-1)!.type, 'completion');
  });

  test('no usable account: provider_not_configured, named on the attempt record', async () => {
    const none = await run(request('p'));
    const err = none.replies.at(-1)!;
    assert.ok(err.type === 'error');
    assert.equal(err.error.code, 'provider_not_configured');
    assert.equal(err.error.status, 502);
    assert.equal(none.attempt.errorCode, 'provider_not_configured');
    assert.equal(none.attempt.accountId, null);
    // A disabled account is no account; an enabled one serves at once.
    const a = account(idOf(1), 'p', simA.url, keyA);
    book.apply(a.id, sign({ ...a, status: 'disabled' }));
    assert.equal((await run(request('p'))).attempt.errorCode, 'provider_not_configured');
    book.apply(a.id, sign({ ...a, revision: 2 }));
    assert.equal((await run(request('p'))).attempt.outcome, 'success');
  });

  test('a rotation mid-flight: the request in flight finishes on the old key, the next uses the new one', async () => {
    const a = account(idOf(1), 'p', simA.url, keyA);
    book.apply(a.id, a);
    simA.setDefaults({ ttftMs: 300, completionTokens: 3, tokensPerSecond: 0 });
    const inFlight = run(request('p', true));
    await simA.waitForRequest(() => true);
    const rotatedKey = key('rotated');
    simA.setApiKeys([keyA, rotatedKey]);
    book.apply(
      a.id,
      sign({
        ...a,
        revision: 2,
        secretVersion: 2,
        secret: sealPayload(
          { credentials: { type: 'api_key', apiKey: rotatedKey }, headers: {} },
          a.id,
          2,
          ring,
        ),
      }),
    );
    const done = await inFlight;
    assert.equal(done.attempt.outcome, 'success');
    simA.setDefaults({ ttftMs: 0 });
    assert.equal((await run(request('p'))).attempt.outcome, 'success');
    const { createHash } = await import('node:crypto');
    const sha = (k: string) => createHash('sha256').update(k).digest('hex');
    assert.deepEqual(
      simA.requests().map((r) => r.credentialSha256),
      [sha(keyA), sha(rotatedKey)],
    );
  });
});

/**
 * Stalls and malformed events on the real upstream path (the simulator's `stall_ms` and
 * `malformed` knobs), as the gateway sees them (the replies), as routing sees them (the attempt
 * record), and as Prometheus does (`GET /metrics`).
 */
describe('AttemptExecutor: stalls and malformed events', () => {
  let sim: OpenAISimulator;
  const simKey = key('stall');
  const provider = `p-${randomBytes(3).toString('hex')}`;
  let executor: AttemptExecutor;
  let records: LlmAttemptV1[];
  let metrics: ReturnType<typeof countingMetrics>;

  before(async () => {
    sim = await startOpenAISimulator({
      apiKey: simKey,
      name: 'stall',
      defaults: { ttftMs: 0, tokensPerSecond: 0 },
    });
    const book = new AccountBook(ring);
    book.apply(idOf(7), account(idOf(7), provider, sim.url, simKey));
    // The default stays long: the limit under test comes with each request.
    ({ executor, records, metrics } = executorFor(book));
  });
  after(async () => {
    await executor?.close();
    await sim.close();
  });

  const generate = (content: string, stallTimeoutMs?: number): LlmGenerateV1 => {
    const req = request(provider, true);
    req.body = { model: 'm/x', messages: [{ role: 'user', content }], stream: true };
    if (stallTimeoutMs !== undefined) req.stallTimeoutMs = stallTimeoutMs;
    return req;
  };

  const run = (req: LlmGenerateV1) => runWith(executor, records, req);

  const textOf = (replies: Array<{ reply: LlmReplyV1 }>): string =>
    replies
      .flatMap(({ reply: r }) => (r.type === 'chunk' ? [r.chunk] : []))
      .map((c) => {
        const choice = (c['choices'] as Array<{ delta?: { content?: string } }>)[0];
        return choice?.delta?.content ?? '';
      })
      .join('');

  /** What the executor counted for this test's provider. */
  const scraped = async (name: 'stall' | 'malformed'): Promise<number> =>
    metrics.counts.get(`${name}:${provider}`) ?? 0;

  test('a 6 s stall after the third token under a 2 s limit: ended at the limit, counted, recorded', async (t) => {
    const stallsBefore = await scraped('stall');
    const prompt = 'stall here please';
    const { replies, attempt } = await run(
      generate(`${prompt} [[sim tokens=10 stall_ms=6000 stall_after=3]]`, 2_000),
    );
    const last = replies.at(-1)!;
    assert.ok(last.reply.type === 'error', JSON.stringify(last.reply));
    const err = last.reply;
    assert.equal(err.error.code, 'upstream_stalled');
    assert.equal(err.error.status, 504);
    assert.equal(err.error.retryable, true);
    // What reached the gateway before: the role and three tokens, and the error says so.
    const chunks = replies.filter((r) => r.reply.type === 'chunk');
    assert.equal(err.chunksSent, chunks.length);
    assert.equal(textOf(replies), expectedContent(prompt, 3));
    // What the attempt produced is counted (a mid-stream failure: prompt and output).
    assert.ok(err.tokens.prompt > 0 && err.tokens.completion > 0, JSON.stringify(err.tokens));
    // Detected at the limit (timers never fire early; a busy machine may make them late), and
    // long before the stall would have ended by itself.
    const silence = last.at - chunks.at(-1)!.at;
    t.diagnostic(`ended ${silence.toFixed(0)} ms after the last token (limit 2000 ms)`);
    assert.ok(silence >= 1_950, `ended after ${silence.toFixed(0)} ms of silence`);
    assert.ok(silence < 3_500, `ended after ${silence.toFixed(0)} ms of silence`);
    const rec = await sim.waitForRequest((r) => r.outcome !== 'in_progress', { timeoutMs: 1000 });
    assert.equal(rec.outcome, 'aborted', 'the connector closed the upstream call');
    assert.equal(rec.tokensSent, 3);
    // The attempt record says it stalled.
    assert.equal(attempt.errorCode, 'upstream_stalled');
    assert.equal(attempt.outcome, 'timeout');
    assert.equal(attempt.malformedEvents, 0);
    assert.equal(await scraped('stall'), stallsBefore + 1);
  });

  test('a 1.5 s pause under the same 2 s limit is no stall: served whole', async () => {
    sim.reset();
    const prompt = 'pause here please';
    const { replies, attempt } = await run(
      generate(`${prompt} [[sim tokens=6 stall_ms=1500 stall_after=3]]`, 2_000),
    );
    assert.equal(replies.at(-1)!.reply.type, 'end');
    assert.equal(textOf(replies), expectedContent(prompt, 6));
    assert.equal(attempt.outcome, 'success');
  });

  test('malformed events amid the stream: skipped, the answer whole, counted on the record and in /metrics', async () => {
    sim.reset();
    const before = await scraped('malformed');
    const prompt = 'garbage amid good events';
    const { replies, attempt } = await run(generate(`${prompt} [[sim tokens=40 malformed=2]]`));
    assert.equal(replies.at(-1)!.reply.type, 'end');
    assert.equal(textOf(replies), expectedContent(prompt, 40));
    assert.equal(attempt.outcome, 'success');
    assert.equal(attempt.malformedEvents, 2);
    assert.equal(await scraped('malformed'), before + 2);
  });

  test('past the tolerance (four in a row): upstream_bad_stream, what was skipped still counted', async () => {
    sim.reset();
    const before = await scraped('malformed');
    const { replies, attempt } = await run(generate('broken stream [[sim tokens=2 malformed=8]]'));
    const last = replies.at(-1)!.reply;
    assert.ok(last.type === 'error');
    assert.equal(last.error.code, 'upstream_bad_stream');
    assert.equal(attempt.errorCode, 'upstream_bad_stream');
    assert.equal(attempt.malformedEvents, 3, 'three skipped, the fourth in a row failed it');
    assert.equal(await scraped('malformed'), before + 3);
  });
});

/** Fused mode's transport on the real upstream path: replies as calls, a cancel as an abort. */
describe('InProcessTransport', () => {
  let sim: OpenAISimulator;
  const simKey = key('inproc');
  const provider = `p-${randomBytes(3).toString('hex')}`;

  before(async () => {
    sim = await startOpenAISimulator({
      apiKey: simKey,
      name: 'inproc',
      defaults: { ttftMs: 0, tokensPerSecond: 0 },
    });
  });
  after(() => sim.close());

  function transport() {
    const book = new AccountBook(ring);
    book.apply(idOf(9), account(idOf(9), provider, sim.url, simKey));
    const { executor, records } = executorFor(book);
    return { t: new InProcessTransport(executor, quiet), records };
  }

  test('an attempt runs in this process: its replies arrive in order, as objects, then its record', async () => {
    const { t, records } = transport();
    const got: LlmReplyV1[] = [];
    const req = request(provider, true);
    req.body = { model: 'm/x', messages: [{ role: 'user', content: 'fused hello' }], stream: true };
    const { replyTo: _, ...attempt } = req;
    const done = new Promise<void>((resolve) => {
      void t.start(attempt, {
        reply: (r) => {
          got.push(r);
          if (r.type === 'end' || r.type === 'error') resolve();
        },
        lost: () => assert.fail('nothing is lost in-process'),
      });
    });
    await done;
    assert.deepEqual(
      got.map((r) => r.seq),
      got.map((_, i) => i),
    );
    assert.equal(got.at(-1)!.type, 'end');
    const text = got
      .flatMap((r) => (r.type === 'chunk' ? [r.chunk] : []))
      .map(
        (c) => (c['choices'] as Array<{ delta?: { content?: string } }>)[0]?.delta?.content ?? '',
      )
      .join('');
    assert.equal(text, expectedContent('fused hello', text.split(' ').length));
    assert.equal(await t.drain(Date.now() + 1000), 0);
    assert.equal(records.length, 1);
    assert.equal(records[0]!.outcome, 'success');
  });

  test('a cancel aborts the upstream call; what was produced is still reported; drain cuts the rest', async () => {
    sim.reset();
    const { t, records } = transport();
    const got: LlmReplyV1[] = [];
    const req = request(provider, true);
    req.body = {
      model: 'm/x',
      messages: [{ role: 'user', content: 'slow one [[sim tokens=200 tps=20]]' }],
      stream: true,
    };
    const { replyTo: _, ...attempt } = req;
    const link = await t.start(attempt, { reply: (r) => got.push(r), lost: () => undefined });
    await sim.waitForRequest((r) => r.tokensSent >= 2, { timeoutMs: 5_000 });
    assert.equal(t.inFlight, 1);
    await link.cancel('client_disconnected');
    const rec = await sim.waitForRequest((r) => r.outcome !== 'in_progress', { timeoutMs: 2_000 });
    assert.equal(rec.outcome, 'aborted');
    assert.equal(await t.drain(Date.now() + 2_000), 0);
    const last = got.at(-1)!;
    assert.ok(last.type === 'end', last.type);
    assert.ok(last.tokens.completion >= 1 && last.tokens.prompt > 0, JSON.stringify(last.tokens));
    assert.equal(records[0]!.outcome, 'cancelled');
  });
});
