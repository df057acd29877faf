import type { Provider } from '@nestjs/common';
import type { GenerationTransport } from '@turnpike/generation';
import type { GatewayConfig } from '../gateway.config.js';
import {
  GatewayAccountsView,
  InProcessGenerationTransport,
} from './in-process-generation.transport.js';
import { KafkaGenerationTransport } from './kafka-generation.transport.js';
import { ReplyInboxService } from './reply-inbox.service.js';

/** The gateway's `GenerationTransport` (see libs/generation), chosen by GATEWAY_TRANSPORT. */
export const GENERATION_TRANSPORT = Symbol('GenerationTransport');

/** The providers of the configured transport, and the port bound to it. */
export function generationTransportProviders(config: GatewayConfig): Provider[] {
  const impl =
    config.transport === 'inprocess' ? InProcessGenerationTransport : KafkaGenerationTransport;
  return [
    ...(config.transport === 'inprocess'
      ? [GatewayAccountsView, InProcessGenerationTransport]
      : [ReplyInboxService, KafkaGenerationTransport]),
    { provide: GENERATION_TRANSPORT, useExisting: impl } satisfies Provider<GenerationTransport>,
  ];
}
