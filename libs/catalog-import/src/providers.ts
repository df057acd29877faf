/**
 * The ONE mapping table from the dataset's providers to the catalog's: provider id and name (as
 * OpenRouter names them) and the adapter kind that speaks to it. A kind whose adapter is not in
 * this build yet is imported all the same: the router keeps its endpoints, flagged, and routes to
 * them once the adapter lands. Every provider of the dataset is either mapped or skipped with a
 * reason (a unit test checks it against the pinned dataset, so a dataset upgrade surfaces new
 * providers).
 */
export interface ProviderMapping {
  /** The dataset's provider id. */
  source: string;
  /** The catalog provider id (the `@provider` of endpoint ids, `provider.only` in requests). */
  id: string;
  name: string;
  /** The adapter kind (`libs/providers` registry). */
  kind: string;
  /** Quantization of its endpoints, when the provider's ids say it in their own way. */
  quantization?: (upstreamModel: string) => string | null;
  /** The API base URL an account of a generic kind needs (the dataset's, for the operator). */
  baseUrl?: string;
}

export const PROVIDER_MAPPINGS: readonly ProviderMapping[] = [
  { source: 'openai', id: 'openai', name: 'OpenAI', kind: 'openai' },
  { source: 'azure', id: 'azure', name: 'Azure', kind: 'azure' },
  { source: 'anthropic', id: 'anthropic', name: 'Anthropic', kind: 'anthropic' },
  { source: 'google', id: 'google-ai-studio', name: 'Google AI Studio', kind: 'gemini' },
  { source: 'google-vertex', id: 'google-vertex', name: 'Google Vertex', kind: 'vertex' },
  // Claude on Vertex speaks Anthropic's Messages wire under Vertex URLs and tokens: a kind of its
  // own (no adapter planned in issue 8; imported and flagged).
  {
    source: 'google-vertex-anthropic',
    id: 'google-vertex-anthropic',
    name: 'Google Vertex (Anthropic)',
    kind: 'vertex-anthropic',
  },
  { source: 'amazon-bedrock', id: 'amazon-bedrock', name: 'Amazon Bedrock', kind: 'bedrock' },
  { source: 'mistral', id: 'mistral', name: 'Mistral', kind: 'mistral' },
  { source: 'groq', id: 'groq', name: 'Groq', kind: 'groq' },
  {
    source: 'togetherai',
    id: 'together',
    name: 'Together',
    kind: 'together',
    // Together's "Turbo" models are its FP8 deployments.
    quantization: (m) => (/-turbo$/i.test(m) ? 'fp8' : null),
  },
  { source: 'fireworks-ai', id: 'fireworks', name: 'Fireworks', kind: 'fireworks' },
  { source: 'deepseek', id: 'deepseek', name: 'DeepSeek', kind: 'deepseek' },
  { source: 'xai', id: 'xai', name: 'xAI', kind: 'xai' },
  { source: 'perplexity', id: 'perplexity', name: 'Perplexity', kind: 'perplexity' },
  { source: 'cerebras', id: 'cerebras', name: 'Cerebras', kind: 'cerebras' },
  { source: 'openrouter', id: 'openrouter', name: 'OpenRouter', kind: 'openrouter' },
  // OpenAI-compatible hosts without quirks of their own declared: the generic
  // `openai-compatible` kind (each account names its base URL; the dataset's is in `baseUrl`).
  ...(
    [
      ['alibaba', 'alibaba', 'Alibaba', 'https://dashscope-intl.aliyuncs.com/compatible-mode/v1'],
      ['baseten', 'baseten', 'Baseten', 'https://inference.baseten.co/v1'],
      ['chutes', 'chutes', 'Chutes', 'https://llm.chutes.ai/v1'],
      [
        'cloudflare-workers-ai',
        'cloudflare',
        'Cloudflare',
        'https://api.cloudflare.com/client/v4/accounts/{account}/ai/v1',
      ],
      ['deepinfra', 'deepinfra', 'DeepInfra', 'https://api.deepinfra.com/v1/openai'],
      ['huggingface', 'huggingface', 'Hugging Face', 'https://router.huggingface.co/v1'],
      ['inception', 'inception', 'Inception', 'https://api.inceptionlabs.ai/v1'],
      ['inference', 'inference-net', 'inference.net', 'https://api.inference.net/v1'],
      ['moonshotai', 'moonshotai', 'Moonshot AI', 'https://api.moonshot.ai/v1'],
      ['submodel', 'submodel', 'SubModel', 'https://llm.submodel.ai/v1'],
      ['synthetic', 'synthetic', 'Synthetic', 'https://api.synthetic.new/v1'],
      ['upstage', 'upstage', 'Upstage', 'https://api.upstage.ai/v1'],
      ['venice', 'venice', 'Venice', 'https://api.venice.ai/api/v1'],
      ['wandb', 'wandb', 'W&B Inference', 'https://api.inference.wandb.ai/v1'],
      ['zai', 'z-ai', 'Z.AI', 'https://api.z.ai/api/paas/v4'],
    ] as const
  ).map(([source, id, name, baseUrl]) => ({
    source,
    id,
    name,
    kind: 'openai-compatible',
    baseUrl,
  })),
];

/** Providers of the dataset the catalog leaves out, and why. */
export const SKIPPED_SOURCES: Readonly<Record<string, string>> = {
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
};

export function mappingOf(source: string): ProviderMapping | undefined {
  return PROVIDER_MAPPINGS.find((m) => m.source === source);
}
