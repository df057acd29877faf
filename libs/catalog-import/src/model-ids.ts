/**
 * Canonical model ids, OpenRouter's `author/slug` (`anthropic/claude-3.5-sonnet`,
 * `meta-llama/llama-3.3-70b-instruct`, `openai/gpt-oss-120b`), from each provider's own model
 * id: the provider's wrapping is taken off (Bedrock's `vendor.` prefix and `-v1:0` suffix,
 * Vertex's `@date`, Fireworks' `accounts/fireworks/models/`, Hugging Face orgs), the author
 * comes from the id's org or the model family, and the slug is spelled the way OpenRouter spells
 * it (dotted versions, `-instruct` for Llama, no `-latest`, no release date where OpenRouter has
 * none). Irregular names are in ALIASES. Several providers' ids for one model map to one id:
 * that is what gives a model several endpoints.
 */

export interface CanonicalId {
  author: string;
  slug: string;
}

export const idOf = (c: CanonicalId): string => `${c.author}/${c.slug}`;

/** Hugging Face / OpenRouter orgs and Bedrock vendors → OpenRouter authors. */
const AUTHORS: Readonly<Record<string, string>> = {
  meta: 'meta-llama',
  'meta-llama': 'meta-llama',
  llama: 'meta-llama',
  'deepseek-ai': 'deepseek',
  deepseek: 'deepseek',
  qwen: 'qwen',
  moonshotai: 'moonshotai',
  'zai-org': 'z-ai',
  'z-ai': 'z-ai',
  mistral: 'mistralai',
  mistralai: 'mistralai',
  xai: 'x-ai',
  'x-ai': 'x-ai',
  qwen3: 'qwen',
  'meituan-longcat': 'meituan',
  minimaxai: 'minimax',
  xiaomimimo: 'xiaomi',
  // A host's own org for models of others: the family names the author.
  chutesai: '',
};

/** Model families → their author, for ids that carry no org. First match wins. */
const FAMILIES: readonly [RegExp, string][] = [
  [/^claude/, 'anthropic'],
  [/^(gpt|o\d|codex|chatgpt|text-embedding)/, 'openai'],
  [/^(gemini|gemma)/, 'google'],
  [/^(meta-)?llama/, 'meta-llama'],
  [
    /^(mistral|mixtral|codestral|pixtral|ministral|magistral|devstral|voxtral|open-mi[sx]tral)/,
    'mistralai',
  ],
  [/^grok/, 'x-ai'],
  [/^deepseek/, 'deepseek'],
  [/^(qwen|qwq)/, 'qwen'],
  [/^(kimi|moonshot)/, 'moonshotai'],
  [/^glm/, 'z-ai'],
  [/^(command|c4ai|aya)/, 'cohere'],
  [/^jamba/, 'ai21'],
  [/^nova/, 'amazon'],
  [/^sonar/, 'perplexity'],
  [/^phi-/, 'microsoft'],
  [/^mercury/, 'inception'],
  [/^solar/, 'upstage'],
  [/^venice/, 'venice'],
  [/^dolphin/, 'cognitivecomputations'],
  [/^(minimax|m2-her)/, 'minimax'],
  [/^nemotron/, 'nvidia'],
  [/^inkling/, 'thinkingmachines'],
];

/**
 * Ids (after the provider's wrapping is removed, lowercased, `author/slug`) that no rule spells
 * as OpenRouter does.
 */
export const ALIASES: Readonly<Record<string, string>> = {
  // Anthropic: the June 2024 Claude 3.5 Sonnet keeps its date (the bare name is October's).
  'anthropic/claude-3-5-sonnet-20240620': 'anthropic/claude-3.5-sonnet-20240620',
  'anthropic/claude-v2': 'anthropic/claude-2',
  'anthropic/claude-v2:1': 'anthropic/claude-2.1',
  'anthropic/claude-instant-v1': 'anthropic/claude-instant-1',
  'cohere/command-text-v14': 'cohere/command',
  'cohere/command-light-text-v14': 'cohere/command-light',
  'deepseek/r1': 'deepseek/deepseek-r1',
  'deepseek/deepseek-v3': 'deepseek/deepseek-chat',
  'deepseek/deepseek-v3.1': 'deepseek/deepseek-chat-v3.1',
  'deepseek/deepseek-v3-0324': 'deepseek/deepseek-chat-v3-0324',
  'qwen/qwen3-coder-480b-a35b-instruct': 'qwen/qwen3-coder',
  'qwen/qwen3-coder-480b': 'qwen/qwen3-coder',
  'qwen/qwen3-235b-a22b-instruct-2507': 'qwen/qwen3-235b-a22b-07-25',
  'qwen/qwen-qwq-32b': 'qwen/qwq-32b',
  'mistralai/open-mistral-7b': 'mistralai/mistral-7b-instruct',
  'mistralai/open-mixtral-8x7b': 'mistralai/mixtral-8x7b-instruct',
  'mistralai/open-mixtral-8x22b': 'mistralai/mixtral-8x22b-instruct',
  'mistralai/mistral-saba-24b': 'mistralai/mistral-saba',
  'mistralai/mistral-medium-2505': 'mistralai/mistral-medium-3',
  'mistralai/mistral-medium-2508': 'mistralai/mistral-medium-3.1',
  'openai/gpt-5-chat-latest': 'openai/gpt-5-chat',
  'google/gemini-2.0-flash': 'google/gemini-2.0-flash-001',
  'google/gemini-2.0-flash-lite': 'google/gemini-2.0-flash-lite-001',
  'mistralai/codestral': 'mistralai/codestral-2508',
  'moonshotai/kimi-k2-0711-preview': 'moonshotai/kimi-k2',
  'moonshotai/kimi-k2-0905-preview': 'moonshotai/kimi-k2-0905',
  'moonshotai/kimi-k2-turbo-preview': 'moonshotai/kimi-k2-turbo',
  'mistralai/mistral-nemo-12b-instruct': 'mistralai/mistral-nemo',
  'mistralai/mistral-small-3.2-24b-instruct-2506': 'mistralai/mistral-small-3.2-24b-instruct',
  'mistralai/mistral-31-24b': 'mistralai/mistral-small-3.1-24b-instruct',
  'deepseek/deepseek-r1-671b': 'deepseek/deepseek-r1',
  'qwen/qwen-2.5-coder-32b': 'qwen/qwen-2.5-coder-32b-instruct',
  'qwen/qwen-2.5-qwq-32b': 'qwen/qwq-32b',
  'qwen/qwen3-235b': 'qwen/qwen3-235b-a22b',
  'tngtech/deepseek-tng-r1t2-chimera': 'tngtech/deepseek-r1t2-chimera',
  // genai-prices' spellings (several providers' ids, and family names).
  'anthropic/claude-4-opus': 'anthropic/claude-opus-4',
  'anthropic/claude-4-sonnet': 'anthropic/claude-sonnet-4',
  'anthropic/claude-opus-4.0': 'anthropic/claude-opus-4',
  'anthropic/claude-sonnet-4.0': 'anthropic/claude-sonnet-4',
  'deepseek/deepseek_v3': 'deepseek/deepseek-chat',
  'google/gemini-flash-1.5': 'google/gemini-1.5-flash',
  'google/gemini-flash-1.5-8b': 'google/gemini-1.5-flash-8b',
  'google/gemini-pro-1.5': 'google/gemini-1.5-pro',
  'google/gemma-4-31b': 'google/gemma-4-31b-it',
  'minimax/m2-her': 'minimax/minimax-m2-her',
  'nvidia/nemotron-3-ultra-nvfp4': 'nvidia/nemotron-3-ultra-550b-a55b',
  'mistralai/devstral-2-123b': 'mistralai/devstral-2512',
  'mistralai/ministral-3-14b-instruct': 'mistralai/ministral-14b-2512',
  'mistralai/ministral-3-3b-instruct': 'mistralai/ministral-3b-2512',
  'mistralai/ministral-3-8b-instruct': 'mistralai/ministral-8b-2512',
  'mistralai/mistral-large-3-675b-instruct': 'mistralai/mistral-large-2512',
  'mistralai/mistral-nemo-instruct-2407': 'mistralai/mistral-nemo',
  'mistralai/mixtral-8x7b-instruct-v0.1': 'mistralai/mixtral-8x7b-instruct',
  'nvidia/nemotron-nano-3-30b': 'nvidia/nemotron-3-nano-30b-a3b',
  'nvidia/nemotron-nano-9b': 'nvidia/nemotron-nano-9b-v2',
  'nvidia/nemotron-super-3-120b': 'nvidia/nemotron-3-super-120b-a12b',
  'openai/chatgpt-4o': 'openai/chatgpt-4o-latest',
  'openai/gpt-oss-120b-1': 'openai/gpt-oss-120b',
  'openai/gpt-oss-20b-1': 'openai/gpt-oss-20b',
  'openai/o3-2025-04-16': 'openai/o3',
  'qwen/qwen3-coder-30b-a3b': 'qwen/qwen3-coder-30b-a3b-instruct',
  'qwen/qwen3-coder-480b-a35b': 'qwen/qwen3-coder',
  'qwen/qwen3-vl-235b-a22b': 'qwen/qwen3-vl-235b-a22b-instruct',
  'sao10k/l3-8b-lunaris': 'sao10k/l3-lunaris-8b',
  'sao10k/l3-8b-lunaris-v1': 'sao10k/l3-lunaris-8b',
  'x-ai/grok-4-0709': 'x-ai/grok-4',
  'x-ai/grok-4-fast-non-reasoning': 'x-ai/grok-4-fast',
  'x-ai/grok-4-fast-reasoning': 'x-ai/grok-4-fast',
  'x-ai/grok-4.1-fast-non-reasoning': 'x-ai/grok-4.1-fast',
  'x-ai/grok-4.1-fast-reasoning': 'x-ai/grok-4.1-fast',
};

/** Quantization suffixes of model ids (`-FP8`, `-awq`, Cloudflare's `-fp8-fast`). */
const QUANTIZATION = /-(fp8|fp16|bf16|awq|int4|int8)(-fast)?$/i;

/** The quantization a provider's model id names, if any. */
export function quantizationOf(upstreamId: string): string | null {
  return QUANTIZATION.exec(upstreamId)?.[1]?.toLowerCase() ?? null;
}

/** Takes a provider's wrapping off its model id: `[org or vendor, rest]`. */
function unwrap(provider: string, upstreamId: string): [string | null, string] {
  let id = upstreamId;
  if (provider === 'amazon-bedrock') {
    // `us.anthropic.claude-...-v1:0` (cross-region profiles) or `meta.llama3-...-v1:0`.
    const m = /^(?:(?:us|eu|apac|jp|global)\.)?([a-z0-9-]+)\.(.+)$/.exec(id);
    if (m) {
      const [, vendor = '', rest = ''] = m;
      // Amazon's own ids keep their `-v1` (`amazon/nova-pro-v1`), the others lose it.
      const bare = ALIASES[`${AUTHORS[vendor] ?? vendor}/${rest}`]
        ? rest
        : vendor === 'amazon'
          ? rest.replace(/:\d+$/, '')
          : rest.replace(/-v\d+(:\d+)?$/, '').replace(/:\d+$/, '');
      return [vendor, bare];
    }
  }
  if (provider === 'google-vertex-anthropic') id = id.replace('@', '-');
  if (provider === 'fireworks') id = id.replace(/^accounts\/fireworks\/(models|routers)\//, '');
  // Cloudflare's `@cf/org/name`; Hugging Face's router picks a host with `:host`.
  if (provider === 'cloudflare') id = id.replace(/^@cf\//, '');
  if (provider === 'huggingface') id = id.replace(/:[a-z0-9-]+$/, '');
  // Vertex's models-as-a-service ids (`gemma-4-26b-a4b-it-maas`).
  if (provider === 'google-vertex') id = id.replace(/-maas$/, '');
  // Synthetic names Hugging Face repositories `hf:org/name`.
  id = id.replace(/^hf:/, '');
  const slash = id.indexOf('/');
  if (slash > 0) return [id.slice(0, slash), id.slice(slash + 1)];
  return [null, id];
}

/** OpenRouter's spelling of a slug, family by family. */
function spell(author: string, slug: string): string {
  let s = slug
    .toLowerCase()
    .replace(/-latest$/, '')
    .replace(QUANTIZATION, '')
    // Fireworks spells versions with a `p` (`glm-4p5`, `deepseek-v3p1`), some hosts with `_`.
    .replace(/(\d)[p_](\d)/g, '$1.$2');
  if (author === 'anthropic') {
    s = s
      .replace(/^claude-(\d)-(\d)-(sonnet|haiku|opus)/, 'claude-$1.$2-$3')
      .replace(/^claude-([a-z]+)-(\d)-(\d)(?=-|$)/, 'claude-$1-$2.$3')
      .replace(/-\d{8}$/, '');
  }
  if (author === 'meta-llama') {
    s = s
      .replace(/^meta-llama-/, 'llama-')
      .replace(/^llama-v(\d)/, 'llama-$1')
      .replace(/^llama(\d)-(\d)-/, 'llama-$1.$2-')
      .replace(/^llama(\d)-/, 'llama-$1-')
      .replace(/^llama-(\d)-(scout|maverick)\b.*$/, 'llama-$1-$2')
      .replace(/-(versatile|instant|turbo|8192)$/, '')
      .replace(/^(llama-3\.2-(?:11|90)b)-instruct$/, '$1-vision-instruct');
    if (!/guard|instruct|chat|^llama-4-/.test(s)) s = `${s}-instruct`;
  }
  // OpenRouter's Qwen 2 and 2.5 are `qwen-2.5-...` (but `qwen2.5-vl-...`), later ones `qwen3...`.
  if (author === 'qwen')
    s = s
      .replace(/^qwen-3-/, 'qwen3-')
      .replace(/^qwen2\.5-(?!vl)/, 'qwen-2.5-')
      .replace(/^qwen2-/, 'qwen-2-')
      .replace(/-turbo$/, '');
  if (author === 'google') s = s.replace(/^gemma(\d)-/, 'gemma-$1-');
  if (author === 'moonshotai') s = s.replace(/^kimi-k2-instruct(-\d{4})?$/, 'kimi-k2$1');
  if (author === 'ai21') s = s.replace(/^jamba-(\d)-(\d)-/, 'jamba-$1.$2-');
  if (author === 'nvidia') s = s.replace(/^nvidia-/, '');
  if (author === 'cohere') s = s.replace(/^c4ai-/, '');
  if (author === 'x-ai') s = s.replace(/^grok-(\d)-(\d)(?=-|$)/, 'grok-$1.$2');
  return s;
}

/**
 * The canonical id of a provider's model (`provider` is the catalog provider id), or null when
 * it names none (no author found). OpenRouter's own ids are the canonical form: taken as they
 * are (lowercased), an id without an author (an old alias) names none.
 */
export function canonicalId(provider: string, upstreamId: string): CanonicalId | null {
  if (provider === 'openrouter') {
    const [author, ...rest] = upstreamId.toLowerCase().split('/');
    return author && rest.length === 1 && rest[0] ? { author, slug: rest[0] } : null;
  }
  const [org, rest] = unwrap(provider, upstreamId);
  const lower = rest.toLowerCase();
  const fromOrg = org ? (AUTHORS[org.toLowerCase()] ?? org.toLowerCase()) : '';
  const author = fromOrg || (FAMILIES.find(([re]) => re.test(lower))?.[1] ?? null);
  if (!author) return null;
  const raw = `${author}/${lower}`;
  const alias = ALIASES[raw];
  const spelled =
    alias ?? ALIASES[`${author}/${spell(author, rest)}`] ?? `${author}/${spell(author, rest)}`;
  const slash = spelled.indexOf('/');
  return { author: spelled.slice(0, slash), slug: spelled.slice(slash + 1) };
}
