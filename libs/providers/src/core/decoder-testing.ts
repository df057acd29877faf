/**
 * Helpers for the stream decoders' specs (test code): the same garbage amid a real stream must be
 * skipped, counted and reported at its position by every decoder, whatever its framing.
 */
import assert from 'node:assert/strict';
import type { DecodedEvent, StreamDecoder, StreamSummary } from './decoder.js';

const enc = new TextEncoder();

/** The events of an SSE text, each with the blank line that ends it (a last unended one too). */
export function sseEvents(text: string): Uint8Array[] {
  const out: Uint8Array[] = [];
  const end = /\r\n\r\n|\n\n|\r\r/g;
  let from = 0;
  for (let m = end.exec(text); m; m = end.exec(text)) {
    out.push(enc.encode(text.slice(from, m.index + m[0].length)));
    from = m.index + m[0].length;
  }
  if (text.slice(from).trim() !== '') out.push(enc.encode(text.slice(from)));
  return out;
}

/** The parts as one byte array. */
export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export interface Decoded {
  events: DecodedEvent[];
  summary: StreamSummary;
  /** The decoder's `events` at the end. */
  read: number;
}

/** A fresh decoder fed `bytes` whole, or in pieces of `piece` bytes. */
export function decodeBytes(open: () => StreamDecoder, bytes: Uint8Array, piece = 0): Decoded {
  const d = open();
  const events: DecodedEvent[] = [];
  const step = piece > 0 ? piece : Math.max(1, bytes.length);
  for (let i = 0; i < bytes.length; i += step) events.push(...d.push(bytes.subarray(i, i + step)));
  return { events, summary: d.end(), read: d.events };
}

/** Chunks without what differs from run to run (`created`: the clock; a made-up chunk id). */
function stable(events: readonly DecodedEvent[], dropIds: boolean): unknown[] {
  const strip = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(strip);
    if (typeof v !== 'object' || v === null) return v;
    return Object.fromEntries(
      Object.entries(v)
        .filter(([k]) => k !== 'created')
        .map(([k, x]) => [k, strip(x)]),
    );
  };
  return events.flatMap((e) => {
    if (e.type !== 'chunk') return [];
    const { id: _id, ...rest } = e.chunk;
    return [strip(dropIds ? rest : e.chunk)];
  });
}

/**
 * `units` (a real stream, one protocol event each) with `garbage` (one unparsable event) after
 * every `every`-th unit, decoded whole and in 7-byte pieces, gives what the clean stream gives
 * (the same chunks, tokens, finish and completeness), with each garbage event reported as
 * `malformed` at its position among the events, and counted.
 */
export function assertSkipsMalformed(
  open: () => StreamDecoder,
  units: readonly Uint8Array[],
  garbage: Uint8Array,
  /** `dropIds`: the decoder makes up each stream's chunk id (Bedrock's has none). */
  opts: { every?: number; dropIds?: boolean } = {},
): void {
  const every = opts.every ?? 3;
  const clean = decodeBytes(open, concat(units));
  assert.ok(
    clean.events.some((e) => e.type === 'chunk' && e.hasOutput),
    'the clean stream has output',
  );
  assert.equal(clean.summary.malformedEvents, 0);
  // Events the clean stream has read after each unit (a comment is a unit, not an event).
  const probe = open();
  const readAfter = units.map((u) => {
    probe.push(u);
    return probe.events;
  });
  const mixed: Uint8Array[] = [];
  const positions: number[] = [];
  units.forEach((u, i) => {
    mixed.push(u);
    if ((i + 1) % every === 0 && i < units.length - 1) {
      mixed.push(garbage);
      positions.push(readAfter[i]! + positions.length + 1);
    }
  });
  assert.ok(positions.length >= 2, 'the stream is long enough for the test');
  for (const piece of [0, 7]) {
    const got = decodeBytes(open, concat(mixed), piece);
    const why = `fed ${piece === 0 ? 'whole' : `in ${piece}-byte pieces`}`;
    assert.deepEqual(
      got.events.flatMap((e) => (e.type === 'malformed' ? [e.event] : [])),
      positions,
      `malformed events at their positions (${why})`,
    );
    assert.deepEqual(
      got.events.filter((e) => e.type === 'error'),
      [],
      `no error (${why})`,
    );
    const dropIds = opts.dropIds ?? false;
    assert.deepEqual(stable(got.events, dropIds), stable(clean.events, dropIds), why);
    assert.equal(got.summary.malformedEvents, positions.length, why);
    assert.equal(got.summary.complete, clean.summary.complete, why);
    assert.deepEqual(got.summary.tokens, clean.summary.tokens, why);
    assert.equal(got.summary.finishReason, clean.summary.finishReason, why);
    assert.equal(got.read, clean.read + positions.length, `every event read (${why})`);
  }
}
