export { anthropicProtocol, anthropicChatDialect } from './protocol.js';
export { API_VERSIONS, parseMessagesRequest, type MessagesRequest } from './messages-request.js';
export { usageOf as anthropicUsageOf, type AnthropicUsage } from './responses.js';
