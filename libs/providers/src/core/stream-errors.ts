import type { DecodedEvent } from './decoder.js';
import { protocolError } from '../errors/index.js';

/** A stream the decoder cannot make sense of (a malformed event, a corrupt frame). */
export function streamFailure(): DecodedEvent & { type: 'error' } {
  return { type: 'error', error: protocolError('bad_stream') };
}
