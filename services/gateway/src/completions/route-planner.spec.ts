import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { unknownHealth, type CatalogEndpoint, type CatalogModel } from '@turnpike/contracts';
import { FallbackPlan, type Candidate } from './route-planner.service.js';

const model = { id: 't/m' } as CatalogModel;
const candidate = (provider: string, contextLength: number, modelId = 't/m'): Candidate => ({
  model: modelId === model.id ? model : ({ id: modelId } as CatalogModel),
  endpoint: {
    id: `${modelId}@${provider}`,
    provider,
    contextLength,
    health: unknownHealth(),
  } as CatalogEndpoint,
});

describe('FallbackPlan', () => {
  test('hands out candidates in order, numbering the attempts', () => {
    const plan = new FallbackPlan([candidate('a', 10), candidate('b', 10)]);
    assert.equal(plan.next()?.endpoint.provider, 'a');
    assert.equal(plan.attempt, 1);
    assert.equal(plan.hasMore(), true);
    assert.equal(plan.next()?.endpoint.provider, 'b');
    assert.equal(plan.attempt, 2);
    assert.equal(plan.hasMore(), false);
    assert.equal(plan.next(), null);
  });

  test('after a context-length error only larger windows remain', () => {
    const plan = new FallbackPlan([
      candidate('a', 4096),
      candidate('b', 2048),
      candidate('c', 4096),
      candidate('d', 32_000),
    ]);
    const first = plan.next()!;
    plan.failed(first, { code: 'context_length_exceeded' });
    assert.equal(plan.next()?.endpoint.provider, 'd');
    assert.equal(plan.hasMore(), false);
  });

  test("a provider with no usable account: none of its endpoints, other providers' still", () => {
    // `models` fallbacks: another model at the same provider is dropped too.
    const plan = new FallbackPlan([
      candidate('a', 4096),
      candidate('b', 4096),
      candidate('a', 4096, 't/other'),
      candidate('c', 4096, 't/other'),
    ]);
    plan.failed(plan.next()!, { code: 'provider_not_configured' });
    assert.deepEqual(
      [plan.next(), plan.next(), plan.next()].map((c) => c?.endpoint.id ?? null),
      ['t/m@b', 't/other@c', null],
    );
  });

  test('other failures leave the rest as they are', () => {
    const plan = new FallbackPlan([candidate('a', 4096), candidate('b', 2048)]);
    plan.failed(plan.next()!, { code: 'upstream_error' });
    assert.equal(plan.next()?.endpoint.provider, 'b');
  });
});
