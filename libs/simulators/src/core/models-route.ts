/** `GET <prefix>/{id}`: one model of the simulator, in the protocol's shape. */
import type { Exchange } from './http-util.js';
import type { SimContext } from './protocol.js';
import type { SimHttpError } from './sim-error.js';
import type { SimModel } from './types.js';

/** Serves `GET <prefix>/{id}` when `path` is one; false otherwise. */
export function serveModel(
  ctx: SimContext,
  ex: Exchange,
  path: string,
  opts: {
    prefix: string;
    authorize: () => void;
    notFound: (id: string) => SimHttpError;
    render: (m: SimModel) => unknown;
  },
): boolean {
  if (ex.method !== 'GET' || !path.startsWith(`${opts.prefix}/`)) return false;
  const raw = path.slice(opts.prefix.length + 1);
  if (raw === '') return false;
  opts.authorize();
  const id = decodeURIComponent(raw);
  const model = ctx.models.get(id);
  if (!model) throw opts.notFound(id);
  ex.json(200, opts.render(model));
  return true;
}
