import type { DecodedEvent } from './decoder.js';
import { protocolError } from '../errors/index.js';

/**
 * A stream the decoder cannot go on reading: its framing is lost (a corrupt binary frame). An
 * event that merely does not parse is skipped instead (`EventTally.skip`).
 */
export function streamFailure(): DecodedEvent & { type: 'error' } {
  return { type: 'error', error: protocolError('bad_stream') };
}
