/**
 * The provider conformance suite, e2e tier: the same cases as the unit tier
 * (`libs/conformance`), generated from each provider's capabilities, through the whole platform
 * (gateway, Kafka, connector, the provider's simulator) with the official `openai` client.
 * One catalog model per provider kind, each served by one endpoint on a simulator of its wire.
 */
import { describe, test } from 'node:test';
import {
  casesFor,
  runThroughGateway,
  validateJson,
  type CheckContext,
} from '@turnpike/conformance';
import { loadOpenAISpecValidators } from '@turnpike/openai-api/spec';
import { adapterFor } from '@turnpike/providers';
import type { SimRequestRecord } from '@turnpike/simulators';
import { client, ctx } from '../support/context.js';
import { NATIVE_PROTOCOLS, nativeModelId } from '../support/native-models.js';

/**
 * Catalog model → the provider kind serving it and the simulator it runs on: the test catalog's
 * OpenAI model, and one model per native protocol (support/native-models.ts).
 */
export const GATEWAY_TARGETS: ReadonlyArray<{ model: string; kind: string; simulator: string }> = [
  { model: 'turnpike/sim-large', kind: 'openai', simulator: 'sim' },
  ...NATIVE_PROTOCOLS.map((p) => ({ model: nativeModelId(p), kind: p, simulator: `sim-${p}` })),
];

const spec = loadOpenAISpecValidators();

async function lastRecord(simUrl: string, since: number): Promise<SimRequestRecord | undefined> {
  const res = await fetch(`${new URL(simUrl).origin}/__sim/requests`);
  const { data } = (await res.json()) as { data: SimRequestRecord[] };
  return data.filter((r) => r.receivedAt >= since).at(-1);
}

for (const target of GATEWAY_TARGETS) {
  const adapter = adapterFor(target.kind);
  if (!adapter) throw new Error(`no adapter for ${target.kind}`);
  describe(`conformance through the gateway: ${target.model} (${target.kind})`, () => {
    for (const c of casesFor(adapter.capabilities, 'gateway')) {
      test(c.id, async () => {
        const sim = ctx().simulators.find((s) => s.id === target.simulator);
        if (!sim) throw new Error(`no simulator ${target.simulator} in the test context`);
        const since = Date.now() - 1;
        const o = await runThroughGateway(c, client(), target.model);
        const check: CheckContext = {
          tier: 'gateway',
          record: await lastRecord(sim.url, since),
          secret: sim.apiKey,
          validateCompletion: spec.chatCompletion,
          validateChunk: spec.chatCompletionChunk,
          validateJson,
        };
        c.check(o, check);
      });
    }
  });
}
