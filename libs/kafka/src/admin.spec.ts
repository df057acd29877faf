import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TOPIC_SPECS, TOPICS } from '@turnpike/contracts';
import { applyTopicOverrides, topicConfigEntries } from './admin.js';

const spec = (topic: string) => TOPIC_SPECS.find((s) => s.topic === topic)!;

test('the topics billing replays keep every record (retention.ms=-1); others keep the broker default', () => {
  for (const t of [TOPICS.usageEvents, TOPICS.billingCredits])
    assert.ok(
      topicConfigEntries(spec(t)).some((c) => c.name === 'retention.ms' && c.value === '-1'),
      t,
    );
  assert.ok(!topicConfigEntries(spec(TOPICS.llmAttempts)).some((c) => c.name === 'retention.ms'));
});

test('overrides: more partitions, a retention, further configuration; never fewer partitions', () => {
  const specs = applyTopicOverrides(TOPIC_SPECS, {
    [TOPICS.llmRequests]: { partitions: 24 },
    [TOPICS.llmAttempts]: {
      partitions: 1,
      retentionMs: 86_400_000,
      config: { 'min.insync.replicas': '2' },
    },
  });
  const by = (t: string) => specs.find((s) => s.topic === t)!;
  assert.equal(by(TOPICS.llmRequests).partitions, 24);
  assert.equal(by(TOPICS.llmAttempts).partitions, spec(TOPICS.llmAttempts).partitions);
  assert.deepEqual(topicConfigEntries(by(TOPICS.llmAttempts)), [
    { name: 'retention.ms', value: '86400000' },
    { name: 'min.insync.replicas', value: '2' },
  ]);
  // What is not overridden is the spec itself.
  assert.equal(by(TOPICS.usageEvents), spec(TOPICS.usageEvents));
  assert.throws(
    () => applyTopicOverrides(TOPIC_SPECS, { 'llm.request.v1': { partitions: 3 } }),
    /llm\.request\.v1/,
  );
});
