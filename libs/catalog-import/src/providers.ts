/**
 * The ONE mapping table from the datasets' providers to the catalog's: provider id and name (as
 * OpenRouter names them), the adapter kind that speaks to it, and its ids in each dataset. A kind
 * whose adapter is not in this build yet is imported all the same: the router keeps its
 * endpoints, flagged, and routes to them once the adapter lands. Every provider of each dataset
 * is either mapped or skipped with a reason (a unit test checks it against the pinned datasets,
 * so a dataset upgrade surfaces new providers).
 */

/** The datasets the catalog is built from (`models.dev` first: see `build.ts`). */
export type DatasetName = 'models.dev' | 'genai-prices';

/** One genai-prices provider feeding a catalog provider. */
export interface GenaiPricesSource {
  /** The genai-prices provider id. */
  provider: string;
  /** Only its models whose id matches (for a provider that lists another API's models too). */
  only?: RegExp;
  /** Its model ids as the provider's API spells them, where genai-prices spells them otherwise. */
  spelling?: (modelId: string) => string;
}

export interface ProviderMapping {
  /** The catalog provider id (the `@provider` of endpoint ids, `provider.only` in requests). */
  id: string;
  name: string;
  /** The adapter kind (`libs/providers` registry). */
  kind: string;
  /** Its provider id in models.dev. */
  modelsDev?: string;
  /** Its providers in genai-prices (several for Hugging Face's router: one per host). */
  genaiPrices?: readonly GenaiPricesSource[];
  /** Quantization of its endpoints, when the provider's ids say it in their own way. */
  quantization?: (upstreamModel: string) => string | null;
  /** The API base URL an account of a generic kind needs (the dataset's, for the operator). */
  baseUrl?: string;
}

const gp = (provider: string, more: Omit<GenaiPricesSource, 'provider'> = {}) => [
  { provider, ...more },
];

/** Hugging Face's router picks the host from a `:host` suffix of the model id. */
const HUGGING_FACE_HOSTS = [
  'cerebras',
  'fireworks-ai',
  'groq',
  'hyperbolic',
  'nebius',
  'novita',
  'nscale',
  'ovhcloud',
  'publicai',
  'sambanova',
  'together',
];

export const PROVIDER_MAPPINGS: readonly ProviderMapping[] = [
  { id: 'openai', name: 'OpenAI', kind: 'openai', modelsDev: 'openai', genaiPrices: gp('openai') },
  { id: 'azure', name: 'Azure', kind: 'azure', modelsDev: 'azure', genaiPrices: gp('azure') },
  {
    id: 'anthropic',
    name: 'Anthropic',
    kind: 'anthropic',
    modelsDev: 'anthropic',
    genaiPrices: gp('anthropic'),
  },
  {
    id: 'google-ai-studio',
    name: 'Google AI Studio',
    kind: 'gemini',
    modelsDev: 'google',
    // genai-prices' Google lists Gemini and Gemma, and what only Vertex sells (below).
    genaiPrices: gp('google', { only: /^(?!claude)(?!.*-maas$)/ }),
  },
  {
    id: 'google-vertex',
    name: 'Google Vertex',
    kind: 'vertex',
    modelsDev: 'google-vertex',
    genaiPrices: gp('google', { only: /-maas$/ }),
  },
  // Claude on Vertex speaks Anthropic's Messages wire under Vertex URLs and tokens: a kind of its
  // own (no adapter planned in issue 8; imported and flagged).
  {
    id: 'google-vertex-anthropic',
    name: 'Google Vertex (Anthropic)',
    kind: 'vertex-anthropic',
    modelsDev: 'google-vertex-anthropic',
    genaiPrices: gp('google', { only: /^claude/ }),
  },
  {
    id: 'amazon-bedrock',
    name: 'Amazon Bedrock',
    kind: 'bedrock',
    modelsDev: 'amazon-bedrock',
    // genai-prices' `regional.` entries price the geographic cross-region profiles (`us.`, `eu.`,
    // ...); the US one is the id to call.
    genaiPrices: gp('aws', { spelling: (id) => id.replace(/^regional\./, 'us.') }),
  },
  {
    id: 'mistral',
    name: 'Mistral',
    kind: 'mistral',
    modelsDev: 'mistral',
    genaiPrices: gp('mistral'),
  },
  { id: 'cohere', name: 'Cohere', kind: 'cohere', genaiPrices: gp('cohere') },
  { id: 'groq', name: 'Groq', kind: 'groq', modelsDev: 'groq', genaiPrices: gp('groq') },
  {
    id: 'together',
    name: 'Together',
    kind: 'together',
    modelsDev: 'togetherai',
    genaiPrices: gp('together'),
    // Together's "Turbo" models are its FP8 deployments.
    quantization: (m) => (/-turbo$/i.test(m) ? 'fp8' : null),
  },
  {
    id: 'fireworks',
    name: 'Fireworks',
    kind: 'fireworks',
    modelsDev: 'fireworks-ai',
    genaiPrices: gp('fireworks'),
  },
  {
    id: 'deepseek',
    name: 'DeepSeek',
    kind: 'deepseek',
    modelsDev: 'deepseek',
    genaiPrices: gp('deepseek'),
  },
  { id: 'xai', name: 'xAI', kind: 'xai', modelsDev: 'xai', genaiPrices: gp('x-ai') },
  {
    id: 'perplexity',
    name: 'Perplexity',
    kind: 'perplexity',
    modelsDev: 'perplexity',
    genaiPrices: gp('perplexity'),
  },
  {
    id: 'cerebras',
    name: 'Cerebras',
    kind: 'cerebras',
    modelsDev: 'cerebras',
    genaiPrices: gp('cerebras'),
  },
  {
    id: 'openrouter',
    name: 'OpenRouter',
    kind: 'openrouter',
    modelsDev: 'openrouter',
    genaiPrices: gp('openrouter'),
  },
  // OpenAI-compatible hosts without quirks of their own declared: the generic
  // `openai-compatible` kind (each account names its base URL; the dataset's is in `baseUrl`).
  ...(
    [
      [
        'alibaba',
        'Alibaba',
        'https://dashscope-intl.aliyuncs.com/compatible-mode/v1',
        { modelsDev: 'alibaba' },
      ],
      ['arcee', 'Arcee AI', 'https://api.arcee.ai/api/v1', { genaiPrices: gp('arcee') }],
      ['avian', 'Avian', 'https://api.avian.io/v1', { genaiPrices: gp('avian') }],
      [
        'baseten',
        'Baseten',
        'https://inference.baseten.co/v1',
        { modelsDev: 'baseten', genaiPrices: gp('baseten') },
      ],
      ['chutes', 'Chutes', 'https://llm.chutes.ai/v1', { modelsDev: 'chutes' }],
      [
        'cloudflare',
        'Cloudflare',
        'https://api.cloudflare.com/client/v4/accounts/{account}/ai/v1',
        { modelsDev: 'cloudflare-workers-ai', genaiPrices: gp('cloudflare') },
      ],
      ['deepinfra', 'DeepInfra', 'https://api.deepinfra.com/v1/openai', { modelsDev: 'deepinfra' }],
      [
        'huggingface',
        'Hugging Face',
        'https://router.huggingface.co/v1',
        {
          modelsDev: 'huggingface',
          genaiPrices: HUGGING_FACE_HOSTS.map((host) => ({
            provider: `huggingface_${host}`,
            spelling: (id: string) => `${id}:${host}`,
          })),
        },
      ],
      ['inception', 'Inception', 'https://api.inceptionlabs.ai/v1', { modelsDev: 'inception' }],
      [
        'inference-net',
        'inference.net',
        'https://api.inference.net/v1',
        { modelsDev: 'inference' },
      ],
      ['minimax', 'MiniMax', 'https://api.minimax.io/v1', { genaiPrices: gp('minimax') }],
      [
        'moonshotai',
        'Moonshot AI',
        'https://api.moonshot.ai/v1',
        { modelsDev: 'moonshotai', genaiPrices: gp('moonshotai') },
      ],
      ['novita', 'NovitaAI', 'https://api.novita.ai/v3/openai', { genaiPrices: gp('novita') }],
      [
        'ovhcloud',
        'OVHcloud',
        'https://oai.endpoints.kepler.ai.cloud.ovh.net/v1',
        { genaiPrices: gp('ovhcloud') },
      ],
      ['submodel', 'SubModel', 'https://llm.submodel.ai/v1', { modelsDev: 'submodel' }],
      ['synthetic', 'Synthetic', 'https://api.synthetic.new/v1', { modelsDev: 'synthetic' }],
      ['upstage', 'Upstage', 'https://api.upstage.ai/v1', { modelsDev: 'upstage' }],
      ['venice', 'Venice', 'https://api.venice.ai/api/v1', { modelsDev: 'venice' }],
      ['wandb', 'W&B Inference', 'https://api.inference.wandb.ai/v1', { modelsDev: 'wandb' }],
      [
        'z-ai',
        'Z.AI',
        'https://api.z.ai/api/paas/v4',
        { modelsDev: 'zai', genaiPrices: gp('zai') },
      ],
    ] as const
  ).map(([id, name, baseUrl, sources]): ProviderMapping => ({
    id,
    name,
    kind: 'openai-compatible',
    baseUrl,
    ...sources,
  })),
];

/** Providers of each dataset the catalog leaves out, and why. */
export const SKIPPED_SOURCES: Readonly<Record<DatasetName, Readonly<Record<string, string>>>> = {
  'models.dev': {
    'alibaba-cn': 'mainland China endpoint of Alibaba (the international one is imported)',
    'moonshotai-cn': 'mainland China endpoint of Moonshot AI (the international one is imported)',
    zhipuai: 'mainland China endpoint of Z.AI (the international one is imported)',
    'zai-coding-plan': 'a subscription plan, not per-token prices',
    'github-copilot': 'a subscription, not per-token prices',
    'github-models': 'a developer playground with free quotas',
    lmstudio: 'a local server (no list prices)',
    llama: "Meta's Llama API preview (no list prices)",
    vercel: 'a gateway in front of other providers',
    requesty: 'a gateway in front of other providers',
    fastrouter: 'a gateway in front of other providers',
    opencode: 'a gateway in front of other providers',
    v0: "Vercel's app builder models",
    nvidia: 'free trial endpoints (no list prices)',
    morph: 'code-apply models, not chat',
    modelscope: 'a mainland China model hub with free quotas',
  },
  'genai-prices': {
    zhipuai: 'mainland China endpoint of Z.AI (the international one is imported)',
    'github-copilot': 'a subscription, not per-token prices',
    cursor: "an editor's subscription models, not an API",
    quicksilverpro: "a gateway reselling other providers' models",
    doubleword: 'batch inference (answers within hours), not a chat endpoint',
    modal: "the operator's own deployments on Modal (no shared endpoint)",
    typesafe: 'no chat models (input prices only)',
    voyageai: 'embedding models, not chat',
  },
};

/** The catalog provider a models.dev provider maps to. */
export function mappingOf(modelsDevProvider: string): ProviderMapping | undefined {
  return PROVIDER_MAPPINGS.find((m) => m.modelsDev === modelsDevProvider);
}

/** The catalog providers a genai-prices provider feeds, each with how (`only`, `spelling`). */
export function genaiPricesMappingsOf(
  provider: string,
): Array<{ mapping: ProviderMapping; source: GenaiPricesSource }> {
  return PROVIDER_MAPPINGS.flatMap((mapping) =>
    (mapping.genaiPrices ?? [])
      .filter((s) => s.provider === provider)
      .map((source) => ({ mapping, source })),
  );
}

/** Whether a dataset's provider is in the table (mapped) or skipped with a reason. */
export function isAccountedFor(dataset: DatasetName, provider: string): boolean {
  if (Object.hasOwn(SKIPPED_SOURCES[dataset], provider)) return true;
  return dataset === 'models.dev'
    ? mappingOf(provider) !== undefined
    : genaiPricesMappingsOf(provider).length > 0;
}
