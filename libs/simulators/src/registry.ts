/**
 * The simulated wire protocols by name. A protocol folder exports a `SimProtocol` factory; only
 * this registry (and the package index) import protocol folders.
 */
import type { SimProtocol } from './core/protocol.js';
import { SimulatorServer } from './core/server.js';
import type { Simulator, SimulatorOptions } from './core/types.js';
import { bedrockProtocol } from './bedrock/protocol.js';
import { openaiProtocol } from './openai/protocol.js';

export const SIM_PROTOCOLS: Readonly<Record<string, (name: string) => SimProtocol>> = {
  openai: openaiProtocol,
  bedrock: bedrockProtocol,
};

export function simProtocol(name: string): ((simName: string) => SimProtocol) | undefined {
  return Object.hasOwn(SIM_PROTOCOLS, name) ? SIM_PROTOCOLS[name] : undefined;
}

/** Starts a simulator of `protocol` (default OpenAI). */
export async function startSimulator(
  protocol: string,
  opts: SimulatorOptions = {},
): Promise<Simulator> {
  const make = simProtocol(protocol);
  if (!make) throw new Error(`unknown simulator protocol '${protocol}'`);
  return new SimulatorServer(make(opts.name ?? `${protocol}-sim`), opts).listen();
}
