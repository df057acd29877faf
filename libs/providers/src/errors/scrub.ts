/**
 * What of an upstream's text a tenant may read. Only one kind of upstream text ever reaches a
 * tenant: the message of a request the upstream refused as invalid (400/413/422), because it
 * tells the tenant what to fix. Even that passes through `tenantSafeMessage`: credentials and
 * key fragments are redacted, addresses removed, markup refused, the length capped.
 */

/** Replaces a credential, a key fragment or an account identifier. */
export const REDACTED = '[redacted]';
/** Replaces a URL, a host name, an IP address or a host:port. */
export const ADDRESS_REMOVED = '[address removed]';

/** Longest upstream message a tenant may read. */
export const MAX_TENANT_MESSAGE = 512;

type Rule = readonly [RegExp, (match: string, ...groups: string[]) => string];

const redacted = (): string => REDACTED;
/** A value that looks like a secret rather than a word: long, or with a digit. */
const secretLike = (v: string): boolean => v.length >= 16 || (v.length >= 8 && /\d/.test(v));

/**
 * Credentials and what looks like them. Order matters: labelled values first (so that the label
 * stays readable), then known key shapes, then generic long secrets.
 */
const SECRET_RULES: readonly Rule[] = [
  // An Authorization value: "Bearer sk-...", "Basic dXNlcjpwYXNz" (not "Basic plan").
  [/\b(Bearer)\s+[^\s"'`,;)]+/gi, (_m, scheme) => `${scheme} ${REDACTED}`],
  [
    /\b(Basic)\s+([A-Za-z0-9+/]{8,}={0,2})(?![\w+/=])/g,
    (m, scheme, value) => (/^[a-z]+$/.test(value ?? '') ? m : `${scheme} ${REDACTED}`),
  ],
  // A labelled value: api_key=..., "x-api-key": "...", password: ..., token=...
  [
    /\b((?:x-)?(?:api|access|auth|secret|private|client|session|refresh|subscription)?[_-]?(?:key|token|secret|password|passwd|signature|credentials?)s?)(["']?\s*[:=]\s*["']?)([^\s"'`,;&)]+)/gi,
    (m, label, sep, value) => (secretLike(value ?? '') ? `${label}${sep}${REDACTED}` : m),
  ],
  // Known key shapes: OpenAI/Anthropic/DeepSeek sk-..., sk-proj-..., sk-ant-...; Stripe-like
  // rk_/pk_; Google AIza...; AWS access key ids; GitHub, Hugging Face, Groq, Replicate, xAI,
  // Perplexity, NVIDIA, GitLab, Slack tokens.
  [/\b(?:sk|rk|pk)[-_][A-Za-z0-9_\-*.]{6,}/g, redacted],
  [/\bAIza[0-9A-Za-z_\-*]{8,}/g, redacted],
  [/\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[0-9A-Z*]{8,}/g, redacted],
  [
    /\b(?:ghp|gho|ghu|ghs|ghr|github_pat|hf|gsk|r8|xai|pplx|nvapi|glpat|xox[abposr])[-_][A-Za-z0-9_\-*]{8,}/gi,
    redacted,
  ],
  // JSON Web Tokens.
  [/\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g, redacted],
  // A masked key fragment: any word with a run of three or more '*' ("sk-abc*****wxyz", "****1234").
  [/(?<![^\s"'`(),;[\]])[^\s"'`(),;[\]*]*\*{3,}[^\s"'`(),;[\]]*/g, redacted],
  // Identifiers of our provider account: org-..., proj_..., acct_... (random, so with a digit).
  [
    /\b(?:org|proj|project|user|acct|account|sess|tenant)[-_][A-Za-z0-9]{6,}\b/gi,
    (m) => (/\d/.test(m) ? REDACTED : m),
  ],
  // Long hex (keys, signatures, Together/Azure keys).
  [/\b[0-9a-fA-F]{24,}\b/g, redacted],
  // Long base64/base64url runs with letters and digits (a run of letters alone is a long word).
  [/[A-Za-z0-9+/_-]{32,}={0,2}/g, (m) => (/[0-9]/.test(m) && /[A-Za-z]/.test(m) ? REDACTED : m)],
];

/** Redacts credentials, key fragments, account identifiers and long secrets from `text`. */
export function redactSecrets(text: string): string {
  return applyRules(text, SECRET_RULES);
}

function applyRules(text: string, rules: readonly Rule[]): string {
  let out = text;
  for (const [re, by] of rules) out = out.replace(re, by as (m: string, ...g: string[]) => string);
  return out;
}

/** Top-level domains of hosts worth removing (a model id such as `gpt-4.turbo` is not a host). */
const TLD =
  'com|net|org|io|ai|dev|cloud|co|us|uk|de|fr|eu|jp|cn|info|biz|xyz|tech|site|online|internal|local|localhost|lan|corp|svc|intranet|private|example|invalid';

const removed = (): string => ADDRESS_REMOVED;

const ADDRESS_RULES: readonly Rule[] = [
  // Anything with a scheme: https://..., wss://..., s3://...
  [/\b[a-z][a-z0-9+.-]{1,15}:\/\/[^\s"'`<>)\]]+/gi, removed],
  // Bracketed IPv6, with an optional port.
  [/\[[0-9a-fA-F:.]*:[0-9a-fA-F:.]*\](?::\d{1,5})?/g, removed],
  // IPv4, with an optional port.
  [/\b(?:\d{1,3}\.){3}\d{1,3}(?::\d{1,5})?\b/g, removed],
  // Bare IPv6 ("::1", "fe80::1", "2001:db8:0:0:0:0:0:1"); a clock time ("12:30:45") is left.
  [
    /(?<![\w:])(?:[0-9a-fA-F]{0,4}:){2,7}[0-9a-fA-F]{0,4}(?![\w:])/g,
    (m) =>
      m.includes('::') || /[a-fA-F]/.test(m) || m.split(':').length >= 6 ? ADDRESS_REMOVED : m,
  ],
  // Host names with a known top-level domain, with an optional port and path.
  [
    new RegExp(
      `(?<![\\w.@-])(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\\.)+(?:${TLD})(?::\\d{1,5})?(?:/[^\\s"'\`<>)\\]]*)?(?![\\w-])`,
      'gi',
    ),
    removed,
  ],
  // localhost, and any dotted host with a port ("proxy.lan:3128", "upstream-7.svc:8443").
  [/\blocalhost(?::\d{1,5})?\b/gi, removed],
  [/(?<![\w.-])[a-z0-9-]+(?:\.[a-z0-9-]+)+:\d{2,5}\b/gi, removed],
];

/** Removes URLs, host names, IP addresses and host:port pairs from `text`. */
export function removeAddresses(text: string): string {
  return applyRules(text, ADDRESS_RULES);
}

/** Markup (an HTML page, or a fragment of one) is never shown, whatever else it says. */
const MARKUP =
  /<\s*\/?\s*(?:!doctype|html|head|body|title|div|span|p|h[1-6]|center|pre|script|style|br|hr|a|table|meta)\b[^>]*>/i;

/**
 * The upstream message a tenant may read, or null when nothing of it may be shown (empty,
 * markup, nothing left once scrubbed).
 */
export function tenantSafeMessage(
  message: string | null | undefined,
  max = MAX_TENANT_MESSAGE,
): string | null {
  if (typeof message !== 'string') return null;
  // Only the start can be shown: scrubbing more would cost time, not change the answer (a
  // secret cut at this boundary lies far beyond the final cap).
  const head = message.slice(0, max * 8);
  if (MARKUP.test(head)) return null;
  const cleaned = removeAddresses(redactSecrets(head.replace(/\p{Cc}+/gu, ' ')))
    .replace(/\s+/g, ' ')
    .trim();
  // Nothing readable is left (only markers and punctuation).
  const rest = cleaned
    .split(REDACTED)
    .join('')
    .split(ADDRESS_REMOVED)
    .join('')
    .replace(/[^\p{L}\p{N}]/gu, '');
  if (rest.length < 3) return null;
  return cleaned.length <= max ? cleaned : `${cleaned.slice(0, max - 1).trimEnd()}…`;
}

/** Identifiers the tenant may read as a code or a parameter name (`invalid_value`, `messages[0].content`). */
const IDENTIFIER = /^[A-Za-z][A-Za-z0-9_.:\-[\]]{0,63}$/;

/** `value` when it is a short identifier that carries no secret, else null. */
export function safeIdentifier(value: string | null | undefined): string | null {
  if (typeof value !== 'string' || !IDENTIFIER.test(value)) return null;
  return redactSecrets(value) === value && removeAddresses(value) === value ? value : null;
}

/**
 * `text` with every occurrence of `secret`, and of any 8-character piece of it, replaced: the
 * last line of defence for the one credential we know (the provider key of the call), for what
 * reaches a tenant and what reaches a log alike.
 */
export function withoutSecret(text: string, secret: string, by = REDACTED): string {
  if (secret.length < 8) return secret.length > 0 ? text.split(secret).join(by) : text;
  let out = text.split(secret).join(by);
  for (let i = 0; i + 8 <= secret.length; i++) {
    const piece = secret.slice(i, i + 8);
    if (out.includes(piece)) out = out.split(piece).join(by);
  }
  return out;
}

/** Whether `text` holds `secret` or any 8-character piece of it. */
export function containsSecret(text: string, secret: string): boolean {
  return secret.length > 0 && withoutSecret(text, secret, '\u0000') !== text;
}
