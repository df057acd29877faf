/**
 * The providers the conformance suite runs over: each names its adapter, the simulator of its
 * wire, a model that simulator serves, and how to build an account that reaches the simulator
 * with credentials of the provider's type. A new provider adds one entry here.
 */
import type { ProviderConnection } from '@turnpike/contracts';
import { adapterFor, type ProviderAdapter } from '@turnpike/providers';
import { SIM_AWS_ACCESS_KEY_ID } from '@turnpike/simulators';

export interface SimEndpoint {
  /** The base URL the protocol's SDKs take. */
  url: string;
  origin: string;
  /** The secret the simulator expects (an API key, or the AWS secret access key). */
  apiKey: string;
}

export interface ConformanceTarget {
  kind: string;
  /** The simulator protocol (`@turnpike/simulators` registry). */
  simProtocol: string;
  /** A model id the simulator serves (its `--models`). */
  upstreamModel: string;
  connection(sim: SimEndpoint): ProviderConnection;
}

export const TARGETS: readonly ConformanceTarget[] = [
  {
    kind: 'openai',
    simProtocol: 'openai',
    upstreamModel: 'sim-gpt-large',
    connection: (sim) => ({
      baseUrl: sim.url,
      credentials: { type: 'api_key', apiKey: sim.apiKey },
    }),
  },
  {
    kind: 'bedrock',
    simProtocol: 'bedrock',
    // A Claude model: Converse's extended thinking is Claude's; the colon is URI-encoded.
    upstreamModel: 'anthropic.claude-3-7-sonnet-20250219-v1:0',
    connection: (sim) => ({
      baseUrl: sim.origin,
      credentials: {
        type: 'aws',
        accessKeyId: SIM_AWS_ACCESS_KEY_ID,
        secretAccessKey: sim.apiKey,
        region: 'us-east-1',
      },
    }),
  },
];

export function adapterOf(t: ConformanceTarget): ProviderAdapter {
  const a = adapterFor(t.kind);
  if (!a) throw new Error(`no adapter for provider kind '${t.kind}'`);
  return a;
}
