/**
 * The providers the conformance suite runs over: each names its adapter, the simulator of its
 * wire, a model that simulator serves, and how to build an account that reaches the simulator
 * with credentials of the provider's type. A new provider adds one entry here.
 */
import type { ProviderConnection } from '@turnpike/contracts';
import { adapterFor, type ProviderAdapter } from '@turnpike/providers';

export interface SimEndpoint {
  /** The base URL the protocol's SDKs take. */
  url: string;
  origin: string;
  /** The secret the simulator expects (an API key, or the AWS secret key). */
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
    // Any OpenAI-compatible host: the OpenAI wire with the common parameters only.
    kind: 'openai-compatible',
    simProtocol: 'openai',
    upstreamModel: 'sim-gpt-large',
    connection: (sim) => ({
      baseUrl: sim.url,
      credentials: { type: 'api_key', apiKey: sim.apiKey },
    }),
  },
  {
    kind: 'anthropic',
    simProtocol: 'anthropic',
    upstreamModel: 'claude-sim-sonnet',
    connection: (sim) => ({
      baseUrl: sim.url,
      credentials: { type: 'api_key', apiKey: sim.apiKey },
    }),
  },
  {
    kind: 'gemini',
    simProtocol: 'gemini',
    upstreamModel: 'sim-gemini-flash',
    connection: (sim) => ({
      baseUrl: sim.url,
      credentials: { type: 'api_key', apiKey: sim.apiKey },
    }),
  },
  {
    kind: 'vertex',
    simProtocol: 'gemini',
    upstreamModel: 'sim-gemini-pro',
    connection: (sim) => ({
      baseUrl: sim.url,
      credentials: {
        type: 'vertex',
        accessToken: sim.apiKey,
        projectId: 'sim-project',
        location: 'us-central1',
      },
    }),
  },
];

export function adapterOf(t: ConformanceTarget): ProviderAdapter {
  const a = adapterFor(t.kind);
  if (!a) throw new Error(`no adapter for provider kind '${t.kind}'`);
  return a;
}
