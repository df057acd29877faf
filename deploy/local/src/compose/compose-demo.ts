/**
 * The docker-compose demo's upstreams, as files compose mounts (`deploy/compose/demo/`): the same
 * plan as `npm run up` (the imported catalog on one simulator per wire protocol, plus the
 * simulator models), with the simulators at their compose host names. `npm run compose:demo`
 * writes them; a test (compose.spec.ts beside it) checks the committed files are what this gives.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { TARGETS } from '@turnpike/conformance';
import { CatalogFile } from '@turnpike/contracts';
import { simProtocol } from '@turnpike/simulators';
import { mergeCatalogs, planLocalCatalog, simulatorConnection } from '@turnpike/testing';

import { rootDir } from '../settings.js';

/** The simulators' key in compose (they are local stand-ins: no real secret). */
export const COMPOSE_SIM_KEY = 'sk-sim-compose-demo';
export const COMPOSE_SIM_PORT = 9000;
export const demoDir = path.join(rootDir, 'deploy/compose/demo');

/** File name -> content of the demo's files. */
export function composeDemoFiles(): Record<string, string> {
  const read = (name: string) =>
    CatalogFile.parse(
      JSON.parse(readFileSync(path.join(rootDir, 'services/router/catalog', name), 'utf8')),
    );
  const plan = planLocalCatalog(read('imported.catalog.json'));
  const at = (id: string, protocol: string) => {
    const origin = `http://${id}:${COMPOSE_SIM_PORT}`;
    return {
      origin,
      url: `${origin}${simProtocol(protocol)!(id).basePath}`,
      apiKey: COMPOSE_SIM_KEY,
    };
  };
  const providers: Record<string, unknown> = {};
  const sim = at('sim', 'openai');
  providers['sim'] = { kind: 'openai', baseUrl: sim.url, apiKey: COMPOSE_SIM_KEY };
  const files: Record<string, string> = {};
  for (const s of plan.simulators) {
    const endpoint = at(s.id, s.protocol);
    for (const a of s.accounts) {
      const target = TARGETS.find((t) => t.kind === a.kind);
      providers[a.provider] = {
        kind: a.kind,
        ...(target?.connection(endpoint) ?? simulatorConnection(a.kind, endpoint)),
      };
    }
    files[`${s.id}.models.json`] = `${JSON.stringify(s.models)}\n`;
  }
  files['providers.json'] = `${JSON.stringify(providers, null, 2)}\n`;
  files['catalog.json'] =
    `${JSON.stringify(mergeCatalogs(read('default.catalog.json'), plan.catalog))}\n`;
  files['simulators.json'] = `${JSON.stringify(
    plan.simulators.map((s) => ({ id: s.id, protocol: s.protocol })),
    null,
    2,
  )}\n`;
  return files;
}

if (process.argv[1]?.endsWith('compose-demo.js')) {
  mkdirSync(demoDir, { recursive: true });
  for (const [name, text] of Object.entries(composeDemoFiles()))
    writeFileSync(path.join(demoDir, name), text);
  console.log(`wrote ${path.relative(rootDir, demoDir)}`);
}
