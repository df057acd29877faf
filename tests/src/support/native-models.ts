/**
 * The hook for the native protocols in the e2e tier: the test catalog
 * (`tests/fixtures/test.catalog.json`) gains one model per native protocol, `turnpike/sim-<protocol>`
 * served by provider `sim-<protocol>` on a simulator of that protocol, as soon as both the
 * protocol's simulator (`SIM_PROTOCOLS`) and its kind's adapter exist. Until then nothing is added
 * and the suites run on the test catalog as it is.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { TARGETS } from '@turnpike/conformance';
import { CatalogFile } from '@turnpike/contracts';
import {
  mergeCatalogs,
  planLocalCatalog,
  simulatorConnection,
  type SimulatorSpec,
} from '@turnpike/testing';

/** Native protocols and the kind that speaks each (the kind's adapter must name the protocol). */
export const NATIVE_PROTOCOLS = ['anthropic', 'gemini', 'bedrock', 'azure', 'mistral', 'cohere'];

export const nativeModelId = (protocol: string) => `turnpike/sim-${protocol}`;

function nativeDocument(): CatalogFile {
  return {
    version: 1,
    providers: NATIVE_PROTOCOLS.map((p) => ({ id: `sim-${p}`, name: `Simulator (${p})`, kind: p })),
    models: NATIVE_PROTOCOLS.map((p) => ({
      id: nativeModelId(p),
      name: `Turnpike: Simulator (${p} wire)`,
      description: `The ${p} wire protocol, through its adapter and simulator.`,
      created: 1733011200,
      context_length: 128000,
      input_modalities: ['text', 'image'],
      output_modalities: ['text'],
      endpoints: [
        {
          provider: `sim-${p}`,
          // The conformance target's model (Bedrock's is a Claude model id, so it can think).
          upstream_model: TARGETS.find((t) => t.kind === p)?.upstreamModel ?? 'sim-gpt-large',
          pricing: {
            prompt: '1',
            completion: '4',
            cached_read: '0.1',
            cache_write: '1.25',
            request: '0',
          },
          context_length: 128000,
          max_output_tokens: 16384,
          quantization: null,
          region: 'local',
          data_collection: 'deny',
          disabled: false,
        },
      ],
    })),
  };
}

/**
 * The test catalog file and the extra simulators for this run: the fixture itself when no
 * native protocol is ready, else the fixture plus the ready ones, written to `stateDir`.
 */
export function testCatalog(
  fixture: string,
  stateDir: string,
): { file: string; simulators: SimulatorSpec[]; models: string[] } {
  const plan = planLocalCatalog(nativeDocument(), 'sim-');
  if (plan.catalog.models.length === 0) return { file: fixture, simulators: [], models: [] };
  const base = CatalogFile.parse(JSON.parse(readFileSync(fixture, 'utf8')));
  const file = path.join(stateDir, 'test.catalog.json');
  writeFileSync(file, JSON.stringify(mergeCatalogs(base, plan.catalog)));
  return {
    file,
    simulators: plan.simulators.map((s) => ({
      id: s.id,
      protocol: s.protocol,
      models: s.models,
      accounts: s.accounts.map((a) => ({
        ...a,
        connection: (sim: { url: string; origin: string; apiKey: string }) =>
          TARGETS.find((t) => t.kind === a.kind)?.connection(sim) ??
          simulatorConnection(a.kind, sim),
      })),
    })),
    models: plan.catalog.models.map((m) => m.id),
  };
}
