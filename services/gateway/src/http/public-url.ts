/**
 * OpenRouter's paths under both prefixes, in one place: a base URL copied from OpenRouter's
 * docs (`https://openrouter.ai/api/v1`) works as well as `/v1`. Fastify's `rewriteUrl` maps the
 * request line before routing, so every route (chat completions included) answers under both,
 * and `request.originalUrl` keeps what the client sent.
 *
 * The official `openai` clients send a model id's slash encoded (`models.retrieve("a/b")` asks
 * for `/v1/models/a%2Fb`); under the catalog's paths an encoded slash is decoded before routing,
 * so it reaches the same `author/slug` routes. Elsewhere (admin ids, say) `%2F` stays data.
 */

const OPENROUTER_PREFIX = '/api/v1';
const CATALOG_PATHS = /^\/v1\/models?\//;

export function rewritePublicUrl(url: string): string {
  const q = url.indexOf('?');
  let path = q === -1 ? url : url.slice(0, q);
  const query = q === -1 ? '' : url.slice(q);
  if (path === OPENROUTER_PREFIX || path.startsWith(`${OPENROUTER_PREFIX}/`))
    path = path.slice('/api'.length);
  if (CATALOG_PATHS.test(path)) path = path.replace(/%2f/gi, '/');
  return path + query;
}

/** The API prefix the client used, for links in responses (`/v1` or `/api/v1`). */
export function apiBasePath(req: { originalUrl?: string; url: string }): '/v1' | '/api/v1' {
  const url = req.originalUrl ?? req.url;
  return url === OPENROUTER_PREFIX ||
    url.startsWith(`${OPENROUTER_PREFIX}/`) ||
    url.startsWith(`${OPENROUTER_PREFIX}?`)
    ? '/api/v1'
    : '/v1';
}
