import {
  ApiError,
  invalidRequest,
  modelNotFound,
  nonObjectBodyError,
  parseChatCompletionRequest,
} from '@turnpike/openai-api';

type Json = Record<string, unknown>;

/** Most models one comparison fans out to. */
export const MAX_COMPARE_MODELS = 8;

/**
 * `POST /v1/compare`: `{models: [...], messages, ...sampling}` plus `stream` (true by
 * default). Every model gets the same chat completion body with its own `model`; each is
 * checked as `/v1/chat/completions` checks it, up front, so a comparison either starts for
 * every model or for none.
 */
export interface CompareRequest {
  models: string[];
  stream: boolean;
  /** The chat completion body of each model, in order (streamed, with the usage chunk). */
  bodies: Json[];
}

/** Fields a comparison sets itself (or that would make it something else). */
const OWN_FIELDS = ['model', 'stream_options'];

export function parseCompareRequest(
  body: unknown,
  known: (model: string) => boolean,
): CompareRequest {
  const notObject = nonObjectBodyError(body);
  if (notObject) throw notObject;
  const { models, stream, ...rest } = body as Json;
  for (const f of OWN_FIELDS)
    if (f in rest)
      throw invalidRequest(
        f === 'model'
          ? "A comparison takes 'models' (the models to compare), not 'model'."
          : `'${f}' is set by the comparison itself.`,
        f,
      );
  if (!Array.isArray(models) || models.length === 0)
    throw invalidRequest("'models' must list the models to compare.", 'models');
  if (models.length > MAX_COMPARE_MODELS)
    throw invalidRequest(`At most ${MAX_COMPARE_MODELS} models can be compared at once.`, 'models');
  models.forEach((m, i) => {
    if (typeof m !== 'string' || m.length === 0 || m.length > 200)
      throw invalidRequest(`'models[${i}]' must be a model id.`, `models[${i}]`);
    if (models.indexOf(m) !== i)
      throw invalidRequest(`'models[${i}]' repeats '${m}'.`, `models[${i}]`);
  });
  if (stream !== undefined && typeof stream !== 'boolean')
    throw invalidRequest("'stream' must be a boolean.", 'stream');
  const bodies = (models as string[]).map((model, i): Json => {
    const one = { ...rest, model, stream: true, stream_options: { include_usage: true } };
    const parsed = parseChatCompletionRequest(one);
    if (!parsed.ok) throw parsed.error;
    if (!known(model)) {
      const e = modelNotFound(model);
      throw new ApiError({
        status: e.status,
        type: e.type,
        message: e.message,
        code: e.code,
        param: `models[${i}]`,
      });
    }
    return one;
  });
  return { models: models as string[], stream: stream !== false, bodies };
}
