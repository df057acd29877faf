import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  unknownHealth,
  type CatalogEndpoint,
  type CatalogModel,
  type EndpointHealth,
} from '@turnpike/contracts';
import { endpointStatus, presentEndpoint } from './models.presenter.js';

const NOW = 1_800_000_000_000;
const model: CatalogModel = {
  id: 't/m',
  name: 'T: M',
  description: '',
  created: 0,
  contextLength: 8192,
  inputModalities: ['text'],
  outputModalities: ['text'],
  supportedParameters: [],
  pricing: {
    promptPerM: 0,
    completionPerM: 0,
    cachedReadPerM: 0,
    cacheWritePerM: 0,
    reasoningPerM: 0,
    perRequest: 0,
  },
};
const endpoint = (health: Partial<EndpointHealth> = {}): CatalogEndpoint => ({
  id: 't/m@p',
  provider: 'p',
  providerName: 'Provider P',
  upstreamModel: 'u',
  pricing: {
    promptPerM: 150_000,
    completionPerM: 600_000,
    cachedReadPerM: 0,
    cacheWritePerM: 0,
    reasoningPerM: 600_000,
    perRequest: 0,
  },
  contextLength: 8192,
  maxOutputTokens: 4096,
  quantization: null,
  region: null,
  supportedParameters: ['tools'],
  dataCollection: 'deny',
  health: { ...unknownHealth(), ...health },
});

describe('endpoints API presenter', () => {
  test('status: 0 healthy, -1 half-open, -2 Retry-After, -3 open', () => {
    assert.equal(endpointStatus(endpoint(), NOW), 0);
    assert.equal(endpointStatus(endpoint({ circuit: 'half_open' }), NOW), -1);
    assert.equal(endpointStatus(endpoint({ retryAfterUntil: NOW + 1 }), NOW), -2);
    assert.equal(endpointStatus(endpoint({ retryAfterUntil: NOW }), NOW), 0);
    assert.equal(endpointStatus(endpoint({ circuit: 'open', circuitOpenUntil: NOW + 1 }), NOW), -3);
    assert.equal(
      endpointStatus(endpoint({ circuit: 'open', circuitOpenUntil: NOW - 1 }), NOW),
      -1,
      'past its cool-down',
    );
  });

  test('OpenRouter fields: uptime in percent, latency and throughput percentiles', () => {
    const p = presentEndpoint(
      model,
      endpoint({
        uptime: { last5m: 1, last30m: 0.98765, last1d: null },
        ttftMs: { p50: 120, p75: 130, p90: 150, p99: 200 },
        tokensPerSecond: { p50: 80, p75: 70, p90: 60, p99: 50 },
      }),
      NOW,
    );
    assert.equal(p['uptime_last_5m'], 100);
    assert.equal(p['uptime_last_30m'], 98.77);
    assert.equal(p['uptime_last_1d'], null);
    assert.deepEqual(p['latency_last_30m'], { p50: 120, p75: 130, p90: 150, p99: 200 });
    assert.equal((p['throughput_last_30m'] as { p50: number }).p50, 80);
    assert.equal(p['provider_name'], 'Provider P');
    assert.equal(p['tag'], 'p');
    assert.equal(p['max_prompt_tokens'], 8192);
    assert.deepEqual(p['pricing'], {
      prompt: '0.00000015',
      completion: '0.0000006',
      request: '0',
      image: '0',
      web_search: '0',
      internal_reasoning: '0.0000006',
      input_cache_read: '0',
      input_cache_write: '0',
    });
  });
});
