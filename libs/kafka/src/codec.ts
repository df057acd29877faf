import type { z } from 'zod';
import { TOPIC_SCHEMAS, HEADERS, parseWith, type Parsed } from '@turnpike/contracts';
import { injectContext } from '@turnpike/telemetry';

export type TopicWithSchema = keyof typeof TOPIC_SCHEMAS;
export type MessageOf<T extends TopicWithSchema> = z.infer<(typeof TOPIC_SCHEMAS)[T]>;

export interface OutgoingMessage {
  key: string | null;
  value: Buffer | null;
  partition?: number;
  headers: Record<string, string>;
  /** CreateTime (epoch ms as a string); set when handed to the producer if absent. */
  timestamp?: string;
}

/** JSON-encodes a message of a topic, with the W3C trace context of the active span. */
export function encode<T extends TopicWithSchema>(
  _topic: T,
  key: string | null,
  value: MessageOf<T> | null,
  opts: { partition?: number; headers?: Record<string, string> } = {},
): OutgoingMessage {
  const msg: OutgoingMessage = {
    key,
    value: value === null ? null : Buffer.from(JSON.stringify(value)),
    headers: { ...injectContext(), ...opts.headers },
  };
  if (opts.partition !== undefined) msg.partition = opts.partition;
  return msg;
}

/** Decodes and validates a message of a topic against its contract. */
export function decode<T extends TopicWithSchema>(
  topic: T,
  value: Buffer | null,
): Parsed<MessageOf<T>> {
  if (value === null) return { ok: false, error: 'tombstone' };
  let json: unknown;
  try {
    json = JSON.parse(value.toString('utf8'));
  } catch (e) {
    return { ok: false, error: `not JSON: ${(e as Error).message}` };
  }
  return parseWith(TOPIC_SCHEMAS[topic] as unknown as z.ZodType<MessageOf<T>>, json);
}

export const messageTypeHeader = HEADERS.messageType;
