/**
 * The Bedrock runtime wire: `POST /model/{modelId}/converse` (JSON) and
 * `POST /model/{modelId}/converse-stream` (the binary AWS event stream), SigV4-authenticated.
 * The AWS SDK's endpoint is the simulator's origin (`basePath` '').
 */
import { randomUUID } from 'node:crypto';
import { runChat } from '../core/chat-flow.js';
import type { Exchange } from '../core/http-util.js';
import type { ChatDialect, SimContext, SimProtocol } from '../core/protocol.js';
import { verifySigV4 } from './auth.js';
import { errorForStatus, errors } from './errors.js';
import { parseConverseRequest, type ConverseSimRequest } from './request.js';
import { bufferedSink, streamSink } from './responses.js';

const ROUTE = /^\/model\/([^/]+)\/(converse|converse-stream)$/;

/** `req_` + 32 hex (the simulator's request id) as the UUID AWS request ids are. */
export function awsRequestId(id: string): string {
  const hex = id.replace(/^req_/, '').padEnd(32, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

function modelOf(url: URL): { model: string; stream: boolean } {
  const m = ROUTE.exec(url.pathname);
  let model = '';
  try {
    model = decodeURIComponent(m?.[1] ?? '');
  } catch {
    throw errors.invalidModel();
  }
  return { model, stream: m?.[2] === 'converse-stream' };
}

export const bedrockChatDialect: ChatDialect<ConverseSimRequest> = {
  authorize: (ctx, ex, raw) => verifySigV4(ctx, ex, raw),
  parse(body, _ex, url) {
    const { model, stream } = modelOf(url);
    return parseConverseRequest(body, model, stream);
  },
  invalidJson: () => errors.serialization(),
  badKnob: (m) => errors.validation(m),
  modelNotFound: () => errors.invalidModel(),
  contextLengthExceeded: () => errors.contextLength(),
  errorForStatus: (status, ctx) => errorForStatus(status, ctx),
  credentialOf: () => '',
  streamSink,
  bufferedSink,
  completionId: () => randomUUID(),
};

export function bedrockProtocol(): SimProtocol {
  return {
    name: 'bedrock',
    basePath: '',
    responseHeaders: (ex: Exchange) => ({ 'x-amzn-requestid': awsRequestId(ex.id) }),
    notFound: () => errors.unknownOperation(),
    internalError: () => errors.internal(),
    async route(ctx: SimContext, ex: Exchange, path: string, url: URL): Promise<boolean> {
      if (ex.method !== 'POST' || !ROUTE.test(path)) return false;
      await runChat(ctx, ex, url, bedrockChatDialect);
      return true;
    },
  };
}
