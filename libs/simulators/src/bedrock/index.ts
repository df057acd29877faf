export { SIM_AWS_ACCESS_KEY_ID } from './auth.js';
export { bedrockProtocol } from './protocol.js';
