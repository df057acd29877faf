/**
 * Imports and operator overrides on the real platform (`POST /admin/catalog/import`, the same
 * code the router runs when its catalog file changes): a re-import refreshes prices, but what
 * the operator changed through the admin API survives it: an overridden price stays, an endpoint
 * the operator disabled stays disabled, a model the operator deleted is not brought back. A
 * provider whose kind has no adapter yet is imported and flagged, not routed to or listed.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { catalogAdmin as admin, client, ctx, eventually, marker } from '../support/context.js';

const ALPHA = 'import-e2e/alpha';
const BETA = 'import-e2e/beta';
const GAMMA = 'import-e2e/gamma';

interface EndpointView {
  provider: string;
  pricing: Record<string, string>;
  disabled: boolean;
  overrides: string[];
  routable: boolean;
}

const endpoint = (provider: string, prompt: string, completion: string) => ({
  provider,
  upstream_model: 'sim-gpt-small',
  pricing: { prompt, completion },
  context_length: 8192,
  max_output_tokens: 4096,
});

/** A catalog document as `npm run catalog:import` writes them, at these list prices. */
function document(prompt: string, completion: string) {
  const model = (id: string, endpoints: ReturnType<typeof endpoint>[]) => ({
    id,
    name: `Import e2e: ${id.split('/')[1]}`,
    created: 1733011200,
    context_length: 8192,
    input_modalities: ['text'],
    output_modalities: ['text'],
    endpoints,
  });
  return {
    version: 1,
    description: 'catalog-import.e2e',
    providers: [
      // Existing providers of the test catalog, as they are.
      { id: 'sim-b', name: 'Simulator B', kind: 'openai' },
      { id: 'sim-c', name: 'Simulator C', kind: 'openai' },
      // A provider kind this build has no adapter for.
      { id: 'import-e2e-future', name: 'Future Provider', kind: 'import-e2e-kind' },
    ],
    models: [
      model(ALPHA, [endpoint('sim-b', prompt, completion), endpoint('sim-c', prompt, completion)]),
      model(BETA, [endpoint('sim-b', prompt, completion)]),
      model(GAMMA, [endpoint('import-e2e-future', prompt, completion)]),
    ],
  };
}

async function importDoc(prompt: string, completion: string) {
  const r = await admin('POST', 'import', document(prompt, completion));
  assert.equal(r.status, 200, JSON.stringify(r.json));
  return r.json as {
    models: { created: number; updated: number; unchanged: number; skipped_deleted: number };
    endpoints: { created: number; updated: number; unchanged: number; skipped_deleted: number };
    overrides_kept: number;
    kinds_without_adapter: string[];
  };
}

async function endpointsOf(model: string): Promise<EndpointView[]> {
  const r = await admin('GET', `models/${model}`);
  assert.equal(r.status, 200, JSON.stringify(r.json));
  return (r.json as { endpoints: EndpointView[] }).endpoints;
}

/** The public endpoints of a model as the gateways route them (null: not listed). */
async function publicEndpoints(model: string) {
  const res = await fetch(`${ctx().gatewayUrl}/v1/models/${model}/endpoints`);
  if (res.status === 404) return null;
  const body = (await res.json()) as {
    data: { endpoints: Array<{ tag: string; pricing: { prompt: string; completion: string } }> };
  };
  return body.data.endpoints.map((e) => [e.tag, e.pricing.prompt, e.pricing.completion]);
}

after(async () => {
  for (const m of [ALPHA, BETA, GAMMA]) await admin('DELETE', `models/${m}`);
});

describe('catalog import: refreshes list prices, keeps what the operator changed', () => {
  test('import, override, re-import', async () => {
    // 1. The first import creates everything; the unknown kind is reported.
    const first = await importDoc('1', '2');
    assert.equal(first.models.created, 3);
    assert.equal(first.endpoints.created, 4);
    assert.deepEqual(first.kinds_without_adapter, ['import-e2e-kind']);
    await eventually(
      async () =>
        JSON.stringify(await publicEndpoints(ALPHA)) ===
        JSON.stringify([
          ['sim-b', '0.000001', '0.000002'],
          ['sim-c', '0.000001', '0.000002'],
        ]),
      'alpha routed at the imported prices',
    );
    // Flagged: in the catalog, not routed to, not listed.
    const gamma = await endpointsOf(GAMMA);
    assert.equal(gamma[0]?.routable, false);
    assert.equal(await publicEndpoints(GAMMA), null);
    const list = (await (await fetch(`${ctx().gatewayUrl}/v1/models`)).json()) as {
      data: Array<{ id: string }>;
    };
    assert.ok(list.data.some((m) => m.id === ALPHA));
    assert.ok(!list.data.some((m) => m.id === GAMMA));
    // Importing the same document again changes nothing.
    const again = await importDoc('1', '2');
    assert.equal(again.models.unchanged, 3);
    assert.equal(again.endpoints.unchanged, 4);

    // 2. The operator overrides alpha@sim-b's prompt price, disables alpha@sim-c, deletes beta.
    const put = await admin('PUT', `models/${ALPHA}/endpoints/sim-b`, endpoint('sim-b', '5', '2'));
    assert.equal(put.status, 200, JSON.stringify(put.json));
    assert.deepEqual((put.json as unknown as EndpointView).overrides, ['pricing.prompt']);
    const disabled = await admin('POST', `models/${ALPHA}/endpoints/sim-c/disable`);
    assert.deepEqual((disabled.json as unknown as EndpointView).overrides, ['disabled']);
    assert.equal((await admin('DELETE', `models/${BETA}`)).status, 200);

    // 3. A re-import with new list prices.
    const second = await importDoc('1.5', '3');
    assert.equal(second.models.skipped_deleted, 1, 'beta stays deleted');
    assert.equal(second.endpoints.skipped_deleted, 1);
    assert.equal(second.overrides_kept, 2, 'the prompt price and the disabled flag');
    const alpha = await endpointsOf(ALPHA);
    const b = alpha.find((e) => e.provider === 'sim-b')!;
    const c = alpha.find((e) => e.provider === 'sim-c')!;
    assert.equal(b.pricing['prompt'], '5', "the operator's price survives");
    assert.equal(b.pricing['completion'], '3', 'the list price is refreshed');
    assert.equal(c.pricing['prompt'], '1.5');
    assert.equal(c.disabled, true, 'the disabled endpoint stays disabled');
    assert.equal((await admin('GET', `models/${BETA}`)).status, 404, 'beta is not resurrected');
    await eventually(
      async () =>
        JSON.stringify(await publicEndpoints(ALPHA)) ===
        JSON.stringify([['sim-b', '0.000005', '0.000003']]),
      'the gateways route alpha at the merged prices',
    );
    assert.equal(await publicEndpoints(BETA), null);

    // The model is served at the operator's price.
    const m = marker('import-e2e');
    const res = await client().chat.completions.create({
      model: ALPHA,
      messages: [{ role: 'user', content: `${m} hello` }],
      max_tokens: 4,
    });
    assert.ok(res.choices[0]?.message.content);

    // 4. Writing the imported value back clears the override: the next import updates it.
    const back = await admin(
      'PUT',
      `models/${ALPHA}/endpoints/sim-b`,
      endpoint('sim-b', '1.5', '3'),
    );
    assert.deepEqual((back.json as unknown as EndpointView).overrides, []);
    await importDoc('2', '3');
    const after3 = await endpointsOf(ALPHA);
    assert.equal(after3.find((e) => e.provider === 'sim-b')!.pricing['prompt'], '2');
    assert.equal(after3.find((e) => e.provider === 'sim-c')!.disabled, true);
  });

  test('an invalid document is refused whole, naming the problem', async () => {
    const bad = document('1', '2');
    bad.models[0]!.endpoints[0]!.provider = 'nobody';
    const r = await admin('POST', 'import', bad);
    assert.equal(r.status, 400);
    assert.match(JSON.stringify(r.json), /unknown provider nobody/);
  });
});
