#!/usr/bin/env node
/**
 * CLI: node libs/simulators/dist/main.js [--protocol openai] --port 0 --api-key sk-sim --name sim-a
 *        [--access-key-id AKIA... (bedrock: the access key id of --api-key, the secret key)]
 *        [--host 127.0.0.1] [--models sim-gpt-small:8192,sim-gpt-large:128000]
 *        [--models-file models.json]   (a JSON array of {"id", "contextLength"?}: many models,
 *                                       ids with ':' such as Bedrock's; added to --models)
 *        [--ttft-ms 50 --tps 200 --tokens 24 --status 503 --retry-after 1 --cut after_first
 *         --reset --stall-ms 500 --stall-after 3 --tool-call get_weather]
 *
 * Prints one JSON line `{"url":...,"port":...,"name":...}` once listening; closes on SIGTERM/SIGINT.
 */
import { parseArgs } from 'node:util';
import { DIRECTIVE_KEYS, KnobError, parseKnob } from './core/knobs.js';
import { readModelsFile } from './core/models-file.js';
import { parseModels } from './core/models.js';
import type { Knobs, SimulatorOptions } from './core/types.js';
import { SIM_PROTOCOLS, startSimulator } from './registry.js';

const knobFlags = Object.fromEntries(
  DIRECTIVE_KEYS.map((k) => [k.replace(/_/g, '-'), { type: 'string' as const }]),
);

function parseCli(argv: string[]): SimulatorOptions & { protocol: string } {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      protocol: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      'api-key': { type: 'string' },
      'access-key-id': { type: 'string' },
      name: { type: 'string' },
      models: { type: 'string' },
      'models-file': { type: 'string' },
      ...knobFlags,
      reset: { type: 'boolean' },
    },
  });
  const defaults: Partial<Knobs> = {};
  for (const key of DIRECTIVE_KEYS) {
    const v = values[key.replace(/_/g, '-') as keyof typeof values];
    if (v !== undefined) Object.assign(defaults, parseKnob(key, v === true ? true : String(v)));
  }
  const protocol = values.protocol ?? 'openai';
  if (!Object.hasOwn(SIM_PROTOCOLS, protocol))
    throw new KnobError(
      `unknown --protocol '${protocol}' (one of ${Object.keys(SIM_PROTOCOLS).join(', ')})`,
    );
  const opts: SimulatorOptions & { protocol: string } = { defaults, protocol };
  if (values.port !== undefined) {
    const port = Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw new KnobError(`invalid --port '${values.port}'`);
    opts.port = port;
  }
  if (values.host !== undefined) opts.host = values.host;
  if (values['api-key'] !== undefined) opts.apiKey = values['api-key'];
  if (values['access-key-id'] !== undefined) opts.accessKeyId = values['access-key-id'];
  if (values.name !== undefined) opts.name = values.name;
  if (values.models !== undefined) opts.models = parseModels(values.models);
  if (values['models-file'] !== undefined)
    opts.models = [...(opts.models ?? []), ...readModelsFile(values['models-file'])];
  return opts;
}

async function main(): Promise<void> {
  let opts: SimulatorOptions & { protocol: string };
  try {
    opts = parseCli(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`sim: ${(e as Error).message}\n`);
    process.exitCode = 2;
    return;
  }
  const sim = await startSimulator(opts.protocol, opts);
  process.stdout.write(
    `${JSON.stringify({ url: sim.url, origin: sim.origin, port: sim.port, name: sim.name, protocol: opts.protocol })}\n`,
  );
  let closing = false;
  const shutdown = () => {
    if (closing) return;
    closing = true;
    sim.close().then(
      () => process.exit(0),
      (e: unknown) => {
        process.stderr.write(`sim: close failed: ${String(e)}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

void main();
