import type { DecodedEvent } from './decoder.js';
import { upstreamFailure } from './errors.js';

/** A stream the decoder cannot make sense of (a malformed event, a corrupt frame). */
export function streamFailure(message: string): DecodedEvent & { type: 'error' } {
  return {
    type: 'error',
    error: upstreamFailure({ upstreamStatus: null, message, code: 'upstream_bad_stream' }),
  };
}
