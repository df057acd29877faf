/**
 * The provider conformance suite, unit tier: every provider in TARGETS, every case its
 * capabilities call for, its adapter against the simulator of its wire.
 */
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Agent } from 'undici';
import { loadOpenAISpecValidators } from '@turnpike/openai-api/spec';
import { startSimulator, type Simulator } from '@turnpike/simulators';
import { casesFor, type CheckContext } from './cases.js';
import { runDirect } from './direct.js';
import { validateJson } from './json-schema.js';
import { adapterOf, TARGETS } from './targets.js';

const spec = loadOpenAISpecValidators();

for (const target of TARGETS) {
  const adapter = adapterOf(target);
  describe(`conformance: ${target.kind} (${target.simProtocol} wire)`, () => {
    // Random, so no fragment of it occurs in ordinary text by chance.
    const secret = `sk-c0nf-${randomBytes(20).toString('hex')}`;
    let sim: Simulator;
    const agent = new Agent({ keepAliveTimeout: 1_000 });
    before(async () => {
      sim = await startSimulator(target.simProtocol, {
        apiKey: secret,
        name: `conformance-${target.kind}`,
        models: [{ id: target.upstreamModel, contextLength: 128_000 }],
        ...(target.simDefaults ? { defaults: target.simDefaults } : {}),
      });
    });
    after(async () => {
      await agent.close();
      await sim.close();
    });
    for (const c of casesFor(adapter.capabilities, 'direct')) {
      test(c.id, async () => {
        const o = await runDirect(
          c,
          adapter,
          target.connection({ url: sim.url, origin: sim.origin, apiKey: secret }),
          target.upstreamModel,
          agent,
        );
        const records = sim.requests();
        const ctx: CheckContext = {
          tier: 'direct',
          record: records[records.length - 1],
          secret,
          validateCompletion: spec.chatCompletion,
          validateChunk: spec.chatCompletionChunk,
          validateJson,
        };
        c.check(o, ctx);
      });
    }
  });
}
