import type { UsageAttempt, UsageEventV1 } from '@turnpike/contracts';

/** Usage events and attempts for the community's unit specs (test code only). */

let seq = 0;

export interface EventOptions {
  key?: string;
  app?: string | null;
  prompt?: number;
  completion?: number;
  chargedMicros?: number;
  status?: UsageEventV1['status'];
  errorCode?: string;
  ttftMs?: number | null;
  latencyMs?: number;
  attempts?: UsageAttempt[];
  generationId?: string;
}

/** A generation of `model` by `tenantId` at `at` (ISO), served by `<model>@sim`. */
export function usage(
  tenantId: string,
  model: string,
  at: string,
  o: EventOptions = {},
): UsageEventV1 {
  seq++;
  return {
    v: 1,
    generationId: o.generationId ?? `gen-spec-${String(seq).padStart(8, '0')}`,
    createdAt: at,
    tenantId,
    keyId: o.key ?? `${tenantId}-key`,
    app: { referer: o.app ?? null, title: null },
    requestedModel: model,
    model,
    provider: 'sim',
    endpointId: `${model}@sim`,
    accountId: null,
    stream: true,
    status: o.status ?? 'success',
    finishReason: 'stop',
    nativeFinishReason: 'stop',
    tokens: {
      prompt: o.prompt ?? 10,
      completion: o.completion ?? 5,
      cachedRead: 0,
      cacheWrite: 0,
      reasoning: 0,
    },
    usageReported: true,
    cost: { currency: 'USD', upstreamMicros: 0, chargedMicros: o.chargedMicros ?? 100 },
    ttftMs: o.ttftMs === undefined ? 100 : o.ttftMs,
    latencyMs: o.latencyMs ?? 600,
    attempts: o.attempts ?? [],
    error:
      o.status === 'error'
        ? { status: 502, code: o.errorCode ?? 'upstream_error', message: 'x' }
        : null,
    requestBytes: 100,
  };
}

/** One attempt at `endpointId` (model from the id's `model@provider`). */
export function attempt(
  endpointId: string,
  outcome: UsageAttempt['outcome'],
  o: {
    n?: number;
    errorCode?: string | null;
    ttftMs?: number | null;
    latencyMs?: number;
    completion?: number;
  } = {},
): UsageAttempt {
  const [model, provider] = endpointId.split('@') as [string, string];
  return {
    attempt: o.n ?? 1,
    endpointId,
    provider,
    model,
    outcome,
    upstreamStatus: outcome === 'success' ? 200 : null,
    errorCode: o.errorCode ?? null,
    ttftMs: o.ttftMs === undefined ? (outcome === 'success' ? 100 : null) : o.ttftMs,
    latencyMs: o.latencyMs ?? 600,
    tokens: {
      prompt: 10,
      completion: o.completion ?? (outcome === 'success' ? 50 : 0),
      cachedRead: 0,
      cacheWrite: 0,
      reasoning: 0,
    },
    usageReported: true,
    upstreamMicros: 0,
    served: outcome === 'success',
    accountId: null,
    role: null,
    billedTokens: { prompt: 0, completion: 0, cachedRead: 0, cacheWrite: 0, reasoning: 0 },
    billedUpstreamMicros: 0,
    chargedMicros: 0,
  };
}
