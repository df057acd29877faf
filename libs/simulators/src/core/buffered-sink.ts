/** The sink of a non-streamed JSON answer: one body once every step is generated. */
import { wholeBodySink } from './chat-flow.js';
import type { GenerationSink } from './generation.js';
import type { Exchange } from './http-util.js';

/**
 * Answers with `body()` as JSON when the generation ends (see `wholeBodySink` for the `cut`
 * knob: the status and headers, then half of the body if the first token was produced).
 */
export function bufferedJsonSink(
  a: { ex: Exchange; drop: () => void },
  body: () => unknown,
  headers: Record<string, string> = {},
): GenerationSink {
  return wholeBodySink(a, () => ({
    payload: JSON.stringify(body()),
    contentType: 'application/json',
    headers,
  }));
}
