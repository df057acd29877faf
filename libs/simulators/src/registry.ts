/**
 * The simulated wire protocols by name. A protocol folder exports a `SimProtocol` factory; only
 * this registry (and the package index) import protocol folders.
 */
import { anthropicProtocol } from './anthropic/protocol.js';
import type { SimProtocol } from './core/protocol.js';
import { SimulatorServer } from './core/server.js';
import type { Simulator, SimulatorOptions } from './core/types.js';
import { geminiProtocol } from './gemini/protocol.js';
import { azureProtocol } from './azure/protocol.js';
import { cohereProtocol } from './cohere/protocol.js';
import { mistralProtocol } from './mistral/protocol.js';
import { bedrockProtocol } from './bedrock/protocol.js';
import { openaiProtocol } from './openai/protocol.js';

export const SIM_PROTOCOLS: Readonly<Record<string, (name: string) => SimProtocol>> = {
  openai: openaiProtocol,
  anthropic: anthropicProtocol,
  gemini: geminiProtocol,
  azure: azureProtocol,
  mistral: mistralProtocol,
  cohere: cohereProtocol,
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
