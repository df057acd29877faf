/** The control API, outside `/v1`: `/__sim/requests`, `/__sim/reset`, `/__sim/config`, `/__sim/health`. */
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
  defaults(): Knobs;
  inFlight(): number;
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
    default:
      throw controlError(404, `Invalid URL (${ex.method} ${path})`);
  }
}
