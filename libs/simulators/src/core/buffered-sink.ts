/** The sink of a non-streamed answer: one JSON body once every step is generated. */
import { onDrain } from './chat-flow.js';
import type { GenerationSink } from './generation.js';
import type { Exchange } from './http-util.js';

/**
 * Answers with `body()` when the generation ends. The `cut` knob sends the status and headers
 * (with the whole body's length), then, if the first token was produced, half of the body, and
 * drops the connection.
 */
export function bufferedJsonSink(
  ex: Exchange,
  body: () => unknown,
  headers: Record<string, string>,
  drop: () => void,
): GenerationSink {
  let begun = false;
  return {
    begin: () => {
      begun = true;
    },
    step: () => {},
    finishChoice: () => {},
    end: () => ex.json(200, body(), headers),
    cut() {
      const payload = JSON.stringify(body());
      ex.res.writeHead(200, {
        ...ex.headers(headers),
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(payload)),
      });
      if (begun) ex.res.write(payload.slice(0, Math.floor(payload.length / 2)));
      else ex.res.flushHeaders();
      drop();
    },
    flush: () => true,
    onDrain: onDrain(ex),
  };
}
