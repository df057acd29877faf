import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  CatalogEndpointInput,
  CatalogModelInput,
  CatalogProviderInput,
  MAX_CONTEXT_LENGTH,
  PROVIDER_KINDS,
} from './catalog-admin.js';

const endpoint = {
  provider: 'acme',
  upstream_model: 'fast-1',
  pricing: { prompt: '0.20', completion: '0.80' },
  context_length: 32768,
};
const model = { id: 'acme/fast', name: 'Acme Fast', context_length: 32768 };

/** The path of the first problem, or null when the input is valid. */
function problem(
  schema: {
    safeParse(v: unknown): { success: boolean; error?: { issues: Array<{ path: PropertyKey[] }> } };
  },
  v: unknown,
): string | null {
  const r = schema.safeParse(v);
  return r.success ? null : (r.error?.issues[0]?.path.join('.') ?? '');
}

describe('catalog admin inputs', () => {
  test('a provider kind is one the connector implements', () => {
    assert.ok(PROVIDER_KINDS.includes('openai'));
    assert.equal(problem(CatalogProviderInput, { id: 'x', name: 'X', kind: 'openai' }), null);
    const r = CatalogProviderInput.safeParse({ id: 'x', name: 'X', kind: 'bogus' });
    assert.equal(r.success, false);
    assert.deepEqual(r.error?.issues[0]?.path, ['kind']);
    for (const kind of PROVIDER_KINDS)
      assert.ok(r.error?.issues[0]?.message.includes(kind), 'the message lists the valid kinds');
    assert.equal(problem(CatalogProviderInput, { id: 'x', name: 'X' }), 'kind');
  });

  test('valid inputs pass, with their defaults', () => {
    const e = CatalogEndpointInput.parse(endpoint);
    assert.deepEqual(
      [e.pricing.request, e.max_output_tokens, e.data_collection, e.disabled],
      ['0', null, 'deny', false],
    );
    const m = CatalogModelInput.parse(model);
    assert.deepEqual(m.input_modalities, ['text']);
    assert.equal(
      problem(CatalogEndpointInput, {
        ...endpoint,
        pricing: { prompt: '9999999.999999', completion: '0', request: '0.0002' },
        context_length: MAX_CONTEXT_LENGTH,
        max_output_tokens: MAX_CONTEXT_LENGTH,
        quantization: 'fp8',
        region: 'eu-west-1',
        supported_parameters: ['max_tokens', 'tools', 'response_format'],
      }),
      null,
    );
  });

  test('unknown fields are refused, at every level', () => {
    assert.equal(
      problem(CatalogProviderInput, { id: 'x', name: 'X', kind: 'openai', extra: 1 }),
      '',
    );
    assert.equal(problem(CatalogModelInput, { ...model, contxt_length: 5 }), '');
    assert.equal(problem(CatalogModelInput, { ...model, endpoints: [] }), '');
    assert.equal(problem(CatalogEndpointInput, { ...endpoint, foo: 'bar' }), '');
    assert.equal(
      problem(CatalogEndpointInput, { ...endpoint, pricing: { ...endpoint.pricing, image: '1' } }),
      'pricing',
    );
  });

  test('negative, absurd and non-integer numbers are refused', () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ context_length: -1 }, 'context_length'],
      [{ context_length: 0 }, 'context_length'],
      [{ context_length: 1.5 }, 'context_length'],
      [{ context_length: MAX_CONTEXT_LENGTH + 1 }, 'context_length'],
      [{ context_length: 1e21 }, 'context_length'],
      [{ context_length: '8192' }, 'context_length'],
      [{ max_output_tokens: 2 ** 31 }, 'max_output_tokens'],
      [{ max_output_tokens: -5 }, 'max_output_tokens'],
      [{ pricing: { prompt: '-1', completion: '1' } }, 'pricing.prompt'],
      [{ pricing: { prompt: '1e9', completion: '1' } }, 'pricing.prompt'],
      [{ pricing: { prompt: '99999999', completion: '1' } }, 'pricing.prompt'],
      [{ pricing: { prompt: '1', completion: '99999999999999999999999' } }, 'pricing.completion'],
      [{ pricing: { prompt: '0.1234567', completion: '1' } }, 'pricing.prompt'],
      [{ pricing: { prompt: 'NaN', completion: '1' } }, 'pricing.prompt'],
      [{ pricing: { prompt: 1, completion: '1' } }, 'pricing.prompt'],
    ];
    for (const [patch, path] of cases)
      assert.equal(
        problem(CatalogEndpointInput, { ...endpoint, ...patch }),
        path,
        JSON.stringify(patch),
      );
    for (const [patch, path] of [
      [{ context_length: -1 }, 'context_length'],
      [{ created: -1 }, 'created'],
      [{ created: 1e300 }, 'created'],
      [{ created: 253_402_300_800 }, 'created'],
    ] as const)
      assert.equal(problem(CatalogModelInput, { ...model, ...patch }), path, JSON.stringify(patch));
  });

  test('huge and ill-shaped strings and lists are refused', () => {
    const huge = 'a'.repeat(100_000);
    for (const [patch, path] of [
      [{ upstream_model: huge }, 'upstream_model'],
      [{ upstream_model: '' }, 'upstream_model'],
      [{ region: huge }, 'region'],
      [{ quantization: huge }, 'quantization'],
      [{ quantization: 'FP8 <script>' }, 'quantization'],
      [
        { supported_parameters: Array.from({ length: 129 }, (_, i) => `p${i}`) },
        'supported_parameters',
      ],
      [{ supported_parameters: [huge] }, 'supported_parameters.0'],
      [{ data_collection: 'sometimes' }, 'data_collection'],
      [{ provider: 'Acme AI' }, 'provider'],
    ] as const)
      assert.equal(
        problem(CatalogEndpointInput, { ...endpoint, ...patch }),
        path,
        JSON.stringify(patch).slice(0, 80),
      );
    for (const [patch, path] of [
      [{ name: huge }, 'name'],
      [{ name: '' }, 'name'],
      [{ description: huge }, 'description'],
      [{ id: `a/${huge}` }, 'id'],
      [{ input_modalities: [] }, 'input_modalities'],
      [{ output_modalities: Array.from({ length: 17 }, () => 'text') }, 'output_modalities'],
      [{ input_modalities: [huge] }, 'input_modalities.0'],
    ] as const)
      assert.equal(
        problem(CatalogModelInput, { ...model, ...patch }),
        path,
        JSON.stringify(patch).slice(0, 80),
      );
    assert.equal(problem(CatalogProviderInput, { id: 'x', name: huge, kind: 'openai' }), 'name');
    assert.equal(
      problem(CatalogProviderInput, { id: 'x'.repeat(65), name: 'X', kind: 'openai' }),
      'id',
    );
  });
});
