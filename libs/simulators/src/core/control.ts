/**
 * The control API, outside `/v1`: `/__sim/requests`, `/__sim/reset`, `/__sim/config`,
 * `/__sim/auth`, `/__sim/health`.
 */
import { parseJson, readBody, type Exchange } from './http-util.js';
import { SimHttpError } from './sim-error.js';
import { KnobError, knobsFromObject } from './knobs.js';
import type { Knobs, SimModel, SimRequestRecord } from './types.js';

export const CONTROL_PREFIX = '/__sim/';

export interface ControlTarget {
  name: string;
  models: readonly SimModel[];
  requests(): SimRequestRecord[];
  reset(): void;
  setDefaults(k: Partial<Knobs>): void;
  setApiKeys(keys: readonly string[]): void;
  defaults(): Knobs;
  inFlight(): number;
}

/** `POST /__sim/auth` body: the API keys accepted from now on (none: no authentication). */
function apiKeysOf(body: unknown): string[] | string {
  const keys = (body as { api_keys?: unknown } | null)?.api_keys;
  if (!Array.isArray(keys) || keys.length > 16)
    return "'api_keys' must be an array of at most 16 keys";
  for (const k of keys)
    if (typeof k !== 'string' || k.length === 0 || k.length > 512 || /\s/.test(k))
      return "every key of 'api_keys' must be a non-empty string without white space";
  return keys as string[];
}

/** Errors of the control API (our own API: a plain `{error: {message, code}}`). */
const controlError = (status: number, message: string, code: string | null = null) =>
  new SimHttpError(status, {
    error: { message, type: 'invalid_request_error', param: null, code },
  });

export async function handleControl(
  target: ControlTarget,
  ex: Exchange,
  path: string,
): Promise<void> {
  const route = `${ex.method} ${path}`;
  switch (route) {
    case 'GET /__sim/health':
      return ex.json(200, {
        status: 'ok',
        name: target.name,
        models: target.models.map((m) => m.id),
        inFlight: target.inFlight(),
        defaults: target.defaults(),
      });
    case 'GET /__sim/requests':
      return ex.json(200, { object: 'list', data: target.requests() });
    case 'POST /__sim/reset':
      target.reset();
      return ex.json(200, { ok: true, defaults: target.defaults() });
    case 'POST /__sim/config': {
      const body = parseJson(await readBody(ex.req));
      if (body === undefined) return ex.error(controlError(400, 'The body is not valid JSON.'));
      try {
        target.setDefaults(knobsFromObject(body));
      } catch (e) {
        if (e instanceof KnobError)
          return ex.error(controlError(400, e.message, 'sim_invalid_knob'));
        throw e;
      }
      return ex.json(200, { ok: true, defaults: target.defaults() });
    }
    case 'POST /__sim/auth': {
      // Never echoes the keys: the answer says how many there are.
      const body = parseJson(await readBody(ex.req));
      if (body === undefined) return ex.error(controlError(400, 'The body is not valid JSON.'));
      const keys = apiKeysOf(body);
      if (typeof keys === 'string') return ex.error(controlError(400, keys, 'sim_invalid_keys'));
      target.setApiKeys(keys);
      return ex.json(200, { ok: true, api_keys: keys.length });
    }
    default:
      throw controlError(404, `Invalid URL (${ex.method} ${path})`);
  }
}
