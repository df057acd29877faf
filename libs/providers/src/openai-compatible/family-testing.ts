/** Helpers for the specs of the OpenAI-compatible family (test code, no provider imports). */
import type { ProviderConnection } from '@turnpike/contracts';
import type { PreparedRequest, ProviderAdapter } from '../core/adapter.js';
import type { DecodedEvent } from '../core/decoder.js';
import type { Json } from '../core/json.js';

export const TEST_CONNECTION: ProviderConnection = {
  baseUrl: 'https://upstream.example/v1',
  credentials: { type: 'api_key', apiKey: 'sk-test-key' },
};

/** The request the adapter sends for `body`, and its parsed JSON. */
export async function prepared(
  adapter: ProviderAdapter,
  body: Json,
  opts: { model?: string; stream?: boolean; connection?: ProviderConnection } = {},
): Promise<{ req: PreparedRequest; json: Json }> {
  const req = await adapter.prepareRequest(
    {
      body: { messages: [{ role: 'user', content: 'hi' }], ...body },
      upstreamModel: opts.model ?? 'm',
      stream: opts.stream ?? false,
    },
    opts.connection ?? TEST_CONNECTION,
    { requireParameters: false, now: new Date() },
  );
  return { req, json: JSON.parse(req.body) as Json };
}

/** Every way of splitting `bytes` in two (each byte boundary), decoded by a fresh decoder. */
export function decodeAtEverySplit(
  adapter: ProviderAdapter,
  text: string,
  check: (events: DecodedEvent[], split: number) => void,
): void {
  const bytes = new TextEncoder().encode(text);
  for (let cut = 0; cut <= bytes.length; cut++) {
    const d = adapter.openStream({ body: {}, upstreamModel: 'm', stream: true });
    check([...d.push(bytes.subarray(0, cut)), ...d.push(bytes.subarray(cut))], cut);
  }
}

/** The chunks of decoded events. */
export const chunksOf = (events: readonly DecodedEvent[]): Json[] =>
  events.flatMap((e) => (e.type === 'chunk' ? [e.chunk] : []));

/** The first choice of a chunk or completion. */
export const firstChoice = (j: Json): Json => ((j['choices'] as Json[] | undefined) ?? [])[0] ?? {};
