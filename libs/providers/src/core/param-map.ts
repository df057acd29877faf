import { ROUTED_PARAMETERS, type ReplyError } from '@turnpike/contracts';
import { UpstreamError } from '../errors/index.js';
import type { Json } from './json.js';
import type { ChatRequestModel } from './request-model.js';

/**
 * A provider's parameter map: one declarative entry per OpenAI request parameter it translates.
 * `applyParameters` walks it for every request; the provider's `supported_parameters` are its
 * names (plus `structured_outputs` where json_schema is mapped). A parameter the request uses
 * and the map does not name is dropped, or refused when the caller set
 * `provider.require_parameters` (routing should not have chosen the endpoint; this is the
 * connector's own guard).
 */

export interface ParamContext {
  /** The OpenAI-shaped request. */
  body: Json;
  /** The same request, protocol-neutral. */
  request: ChatRequestModel;
  upstreamModel: string;
  stream: boolean;
  /** The endpoint's declared output limit, when the catalog has one. */
  maxOutputTokens?: number | undefined;
}

export interface ParamSpec<T extends Json = Json> {
  /** The OpenAI request field (a `supported_parameters` name). */
  name: string;
  /**
   * Reads the value from the request instead of `body[name]` (e.g. from the neutral model,
   * where `max_completion_tokens` and `max_tokens` are one value).
   */
  read?: (ctx: ParamContext) => unknown;
  /** Dot path of the provider field the value is written to (after `transform`). */
  to?: string;
  /** The provider needs it: the default fills it, or the request is refused. */
  required?: boolean;
  /** Used when the request does not set the parameter. */
  default?: (ctx: ParamContext) => unknown;
  /**
   * The provider's bounds for a number. `clamp` (the default) moves the value into range, as
   * OpenRouter does for sampling parameters; `refuse` answers 400 naming the parameter.
   */
  range?: { min?: number; max?: number; onOut?: 'clamp' | 'refuse' };
  /** Maps the OpenAI value to the provider's; `undefined` omits the field. */
  transform?: (value: unknown, ctx: ParamContext) => unknown;
  /** For parameters that shape several fields (tools, response_format): writes them itself. */
  apply?: (target: T, value: unknown, ctx: ParamContext) => void;
  /** Further `supported_parameters` names this entry serves (e.g. `structured_outputs`). */
  also?: readonly string[];
}

export type ParamMap<T extends Json = Json> = readonly ParamSpec<T>[];

/** The `supported_parameters` of a map. */
export function parametersOf(map: ParamMap<never>): string[] {
  const names = new Set<string>();
  for (const s of map) {
    names.add(s.name);
    for (const a of s.also ?? []) names.add(a);
  }
  return [...names].sort();
}

/** A request the provider cannot serve as asked (400; another endpoint may, so retryable). */
export function unsupportedParameter(name: string, why: string): ReplyError {
  return {
    status: 400,
    type: 'invalid_request_error',
    message: why,
    code: 'unsupported_parameter',
    param: name,
    retryable: true,
    upstreamStatus: null,
    retryAfterSec: null,
  };
}

/** Thrown by request preparation; carries the error for the gateway. */
export class RequestMappingError extends Error {
  readonly error: UpstreamError;
  constructor(
    readonly reply: ReplyError,
    /** What operators may read (never sent to the tenant). */
    operatorMessage: string | null = null,
  ) {
    super(reply.message);
    this.name = 'RequestMappingError';
    this.error = new UpstreamError(reply, {
      upstreamStatus: null,
      providerCode: null,
      providerType: null,
      providerMessage: operatorMessage,
    });
  }
}

/**
 * An account that cannot serve this provider kind (wrong credential type, missing deployment):
 * our configuration, not the tenant's request, so a 502 another endpoint may replace.
 */
export function misconfigured(operatorMessage: string): RequestMappingError {
  return new RequestMappingError(
    {
      status: 502,
      type: 'server_error',
      message: 'The gateway is misconfigured for this provider.',
      code: 'provider_misconfigured',
      param: null,
      retryable: true,
      upstreamStatus: null,
      retryAfterSec: null,
    },
    operatorMessage,
  );
}

function setPath(target: Json, path: string, value: unknown): void {
  const keys = path.split('.');
  let o: Json = target;
  for (const k of keys.slice(0, -1)) {
    const next = o[k];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) o[k] = {};
    o = o[k] as Json;
  }
  o[keys[keys.length - 1]!] = value;
}

export interface AppliedParameters {
  /** Parameters the request used that this provider does not take (dropped). */
  dropped: string[];
}

/**
 * Writes the mapped parameters of `ctx.body` into `target`. Throws `RequestMappingError` for a
 * missing required parameter, a value out of a `refuse` range, or, with `requireParameters`, a
 * parameter the provider does not take.
 */
export function applyParameters<T extends Json>(
  map: ParamMap<T>,
  target: T,
  ctx: ParamContext,
  opts: { requireParameters: boolean; provider: string },
): AppliedParameters {
  const known = new Set<string>();
  for (const s of map) {
    known.add(s.name);
    for (const a of s.also ?? []) known.add(a);
  }
  const dropped: string[] = [];
  for (const [k, v] of Object.entries(ctx.body)) {
    if (v === null || v === undefined || !ROUTED_PARAMETERS.has(k) || known.has(k)) continue;
    if (opts.requireParameters) {
      throw new RequestMappingError(
        unsupportedParameter(
          k,
          `Provider '${opts.provider}' does not support the parameter '${k}' (provider.require_parameters is set).`,
        ),
      );
    }
    dropped.push(k);
  }
  for (const spec of map) {
    let value: unknown = spec.read ? spec.read(ctx) : ctx.body[spec.name];
    if (value === null) value = undefined;
    if (value === undefined && spec.default) value = spec.default(ctx);
    if (value === undefined) {
      if (spec.required) {
        throw new RequestMappingError(
          unsupportedParameter(spec.name, `Provider '${opts.provider}' requires '${spec.name}'.`),
        );
      }
      continue;
    }
    if (spec.range && typeof value === 'number') {
      const { min, max, onOut = 'clamp' } = spec.range;
      const n: number = value;
      const out = (min !== undefined && n < min) || (max !== undefined && n > max);
      if (out && onOut === 'refuse') {
        throw new RequestMappingError({
          ...unsupportedParameter(
            spec.name,
            `'${spec.name}' must be between ${min ?? '-∞'} and ${max ?? '∞'} for provider '${opts.provider}'.`,
          ),
          code: 'invalid_value',
        });
      }
      value = Math.min(max ?? Infinity, Math.max(min ?? -Infinity, n));
    }
    if (spec.apply) {
      spec.apply(target, value, ctx);
      continue;
    }
    const mapped = spec.transform ? spec.transform(value, ctx) : value;
    if (mapped !== undefined && spec.to) setPath(target, spec.to, mapped);
  }
  return { dropped };
}
