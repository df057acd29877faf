import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderSchema, schemasDir } from './generate-schemas.js';
import { topicJsonSchemas, TOPIC_SCHEMAS } from './schemas.js';
import { TOPIC_SPECS } from './topics.js';
import { UsageEventV1 } from './usage-event.js';
import { LlmReplyV1 } from './llm-reply.js';
import { parseWith, zeroTokens } from './common.js';

test('committed JSON Schemas match the runtime validators', () => {
  for (const [topic, schema] of Object.entries(topicJsonSchemas())) {
    const committed = readFileSync(join(schemasDir, `${topic}.schema.json`), 'utf8');
    assert.equal(
      committed,
      renderSchema(schema),
      `regenerate ${topic}: node libs/contracts/dist/generate-schemas.js`,
    );
  }
});

test('every topic with a schema is a declared topic', () => {
  const declared = new Set(TOPIC_SPECS.map((t) => t.topic));
  for (const topic of Object.keys(TOPIC_SCHEMAS)) assert.ok(declared.has(topic), topic);
});

const usage = () => ({
  v: 1,
  generationId: 'gen-1732406400-abcdefgh',
  createdAt: '2026-11-24T00:00:00.000Z',
  tenantId: 't1',
  keyId: 'k1',
  app: { referer: 'https://example.com', title: 'Example' },
  requestedModel: 'sim/small',
  model: 'sim/small',
  provider: 'sim',
  endpointId: 'sim/small@sim',
  stream: true,
  status: 'success',
  finishReason: 'stop',
  nativeFinishReason: 'stop',
  tokens: { ...zeroTokens(), prompt: 10, completion: 5 },
  usageReported: true,
  cost: { currency: 'USD', upstreamMicros: 12, chargedMicros: 14 },
  ttftMs: 12.5,
  latencyMs: 40,
  attempts: [],
  error: null,
  requestBytes: 120,
});

test('usage event: a valid record parses', () => {
  const r = parseWith(UsageEventV1, usage());
  assert.equal(r.ok, true, r.ok ? '' : r.error);
});

test('usage event: money must be integer micro-units', () => {
  const bad = usage();
  bad.cost.chargedMicros = 14.5;
  const r = parseWith(UsageEventV1, bad);
  assert.equal(r.ok, false);
  assert.match(r.ok ? '' : r.error, /cost\.chargedMicros/);
});

test('usage event: negative token counts are rejected', () => {
  const bad = usage();
  bad.tokens.prompt = -1;
  assert.equal(parseWith(UsageEventV1, bad).ok, false);
});

test('reply: unknown type is rejected, chunk keeps its payload', () => {
  assert.equal(
    parseWith(LlmReplyV1, {
      v: 1,
      generationId: 'gen-1732406400-abcdefgh',
      attempt: 1,
      seq: 0,
      type: 'nope',
    }).ok,
    false,
  );
  const r = parseWith(LlmReplyV1, {
    v: 1,
    generationId: 'gen-1732406400-abcdefgh',
    attempt: 1,
    seq: 0,
    type: 'chunk',
    chunk: { id: 'x', choices: [{ delta: { content: 'hi' } }] },
  });
  assert.ok(r.ok);
  assert.deepEqual(r.ok && r.value.type === 'chunk' ? r.value.chunk : null, {
    id: 'x',
    choices: [{ delta: { content: 'hi' } }],
  });
});

test('reply: coalesced chunks keep their order and payloads; the envelope is what is checked', () => {
  const env = { v: 1, generationId: 'gen-1732406400-abcdefgh', attempt: 1, seq: 3 };
  const chunks = [{ id: 'a', choices: [] }, { id: 'b', nested: { deep: [1, 2] } }, {}];
  const r = parseWith(LlmReplyV1, { ...env, type: 'chunks', chunks });
  assert.ok(r.ok);
  assert.deepEqual(r.ok && r.value.type === 'chunks' ? r.value.chunks : null, chunks);
  // The same object, not a copy: nothing walks the chunks.
  assert.equal(r.ok && r.value.type === 'chunks' ? r.value.chunks[1] : null, chunks[1]);
  for (const bad of [[], ['text'], [null], [[1]], 'x'])
    assert.equal(parseWith(LlmReplyV1, { ...env, type: 'chunks', chunks: bad }).ok, false);
  assert.equal(parseWith(LlmReplyV1, { ...env, seq: -1, type: 'chunks', chunks }).ok, false);
});
