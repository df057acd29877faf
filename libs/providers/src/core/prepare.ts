import type { ProviderConnection } from '@turnpike/contracts';
import type { GenerationCall, PreparedRequest, PrepareOptions } from './adapter.js';
import type { Json } from './json.js';
import { applyParameters, misconfigured, type ParamMap } from './param-map.js';
import { readChatRequest, type ChatRequestModel } from './request-model.js';

/** Refuses (as our misconfiguration) an account whose credentials the provider cannot use. */
export function requireCredentials(
  kind: string,
  connection: ProviderConnection,
  types: readonly string[],
): void {
  const type = connection.credentials.type;
  if (!types.includes(type))
    throw misconfigured(`Provider kind '${kind}' cannot use '${type}' credentials.`);
}

/**
 * The JSON request of a native protocol: `build` writes the protocol's own body from the neutral
 * model (messages, model, stream), the parameter map adds the parameters, and the request goes
 * to `url` with `headers` (the account's own headers last).
 */
export function prepareJson(args: {
  kind: string;
  call: GenerationCall;
  connection: ProviderConnection;
  opts: PrepareOptions;
  params: ParamMap;
  build: (request: ChatRequestModel) => Json;
  url: string;
  headers: Record<string, string>;
}): PreparedRequest {
  const { call, connection } = args;
  const request = readChatRequest(call.body);
  const payload = args.build(request);
  const { dropped } = applyParameters(
    args.params,
    payload,
    {
      body: call.body,
      request,
      upstreamModel: call.upstreamModel,
      stream: call.stream,
      maxOutputTokens: call.maxOutputTokens,
    },
    { requireParameters: args.opts.requireParameters, provider: args.kind },
  );
  return {
    method: 'POST',
    url: args.url,
    headers: {
      'content-type': 'application/json',
      accept: call.stream ? 'text/event-stream' : 'application/json',
      ...args.headers,
      ...connection.headers,
    },
    body: JSON.stringify(payload),
    droppedParameters: dropped,
  };
}
