/**
 * The providers the conformance suite runs over: each names its adapter, the simulator of its
 * wire, a model that simulator serves, and how to build an account that reaches the simulator
 * with credentials of the provider's type. A new provider adds one entry here.
 */
import type { ProviderConnection } from '@turnpike/contracts';
import { adapterFor, type ProviderAdapter } from '@turnpike/providers';
import { SIM_AWS_ACCESS_KEY_ID, type Knobs } from '@turnpike/simulators';

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
  /**
   * How the simulator plays this provider where a wire is shared (the OpenAI-compatible family:
   * which field carries the thinking).
   */
  simDefaults?: Partial<Knobs>;
}

/** An account of an OpenAI-wire provider at the simulator, with an API key. */
const apiKeyAt = (sim: SimEndpoint): ProviderConnection => ({
  baseUrl: sim.url,
  credentials: { type: 'api_key', apiKey: sim.apiKey },
});

/**
 * The OpenAI-compatible family against the OpenAI simulator (they speak its wire); the knob
 * says where each returns its thinking.
 */
const FAMILY: ReadonlyArray<[kind: string, simDefaults?: Partial<Knobs>]> = [
  ['groq', { reasoningField: 'reasoning' }],
  ['together', { reasoningField: 'reasoning' }],
  ['fireworks', { reasoningField: 'reasoning_content' }],
  ['deepseek', { reasoningField: 'reasoning_content' }],
  ['xai', { reasoningField: 'reasoning_content' }],
  ['perplexity'],
  ['cerebras', { reasoningField: 'reasoning' }],
  ['openrouter', { reasoningField: 'reasoning' }],
  ['vllm', { reasoningField: 'reasoning_content' }],
  ['ollama', { reasoningField: 'reasoning' }],
  ['lmstudio', { reasoningField: 'reasoning_content' }],
];

export const TARGETS: readonly ConformanceTarget[] = [
  {
    kind: 'openai',
    simProtocol: 'openai',
    upstreamModel: 'sim-gpt-large',
    connection: apiKeyAt,
  },
  {
    kind: 'azure',
    simProtocol: 'azure',
    upstreamModel: 'sim-gpt-large',
    // The deployment is named after the model here; `deployments` maps others.
    connection: (sim) => ({
      baseUrl: sim.origin,
      credentials: {
        type: 'azure',
        apiKey: sim.apiKey,
        apiVersion: '2024-10-21',
        deployments: {},
      },
    }),
  },
  {
    kind: 'mistral',
    simProtocol: 'mistral',
    upstreamModel: 'mistral-small-latest',
    connection: (sim) => ({
      baseUrl: sim.origin,
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
  {
    kind: 'cohere',
    simProtocol: 'cohere',
    upstreamModel: 'command-a-03-2025',
    connection: (sim) => ({
      baseUrl: sim.origin,
      credentials: { type: 'api_key', apiKey: sim.apiKey },
    }),
  },
  ...FAMILY.map(([kind, simDefaults]): ConformanceTarget => ({
    kind,
    simProtocol: 'openai',
    upstreamModel: 'sim-gpt-large',
    connection: apiKeyAt,
    ...(simDefaults ? { simDefaults } : {}),
  })),
];

export function adapterOf(t: ConformanceTarget): ProviderAdapter {
  const a = adapterFor(t.kind);
  if (!a) throw new Error(`no adapter for provider kind '${t.kind}'`);
  return a;
}
