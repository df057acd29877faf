import type { CatalogModelPage, CatalogModelView, ListModelsParams } from '@turnpike/contracts';

/**
 * A page of the admin model list: from `offset`, at most `limit` models, and never more than
 * `maxBytes` of views (JSON), so that the reply fits its RPC topic however large the models'
 * views are (a model with many endpoints is large). A page holds at least one model, so paging
 * always advances; `next_offset` says where the next page starts.
 */
export function modelPage(
  ids: readonly string[],
  view: (id: string) => CatalogModelView | undefined,
  { offset, limit }: ListModelsParams,
  maxBytes: number,
): CatalogModelPage {
  const data: CatalogModelView[] = [];
  let bytes = 0;
  let next = offset;
  for (; next < ids.length && data.length < limit; next++) {
    const v = view(ids[next]!);
    if (!v) continue;
    const size = Buffer.byteLength(JSON.stringify(v)) + 1;
    if (data.length > 0 && bytes + size > maxBytes) break;
    data.push(v);
    bytes += size;
  }
  return { data, total_count: ids.length, next_offset: next < ids.length ? next : null };
}
