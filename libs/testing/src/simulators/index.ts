/** The simulators are product code (`@turnpike/simulators`); tests get them, and the OpenAI
 * schema validators, from here too. */
export * from '@turnpike/simulators';
export * from '@turnpike/openai-api/spec';
