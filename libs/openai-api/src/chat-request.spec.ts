import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { z } from 'zod';
import {
  chatCompletionRequestSchema,
  formatParamPath,
  nonObjectBodyError,
  parseChatCompletionRequest,
  parseWithSchema,
  type ChatCompletionRequest,
  type ChatMessage,
  type ChatTool,
  type ProviderPreferences,
  type ToolChoice,
} from './chat-request.js';
import { ApiError } from './errors.js';
import { loadSpec } from './spec-support.js';

type Body = Record<string, unknown>;

const user = { role: 'user', content: 'Hello!' };
const base = (extra: Body = {}): Body => ({ model: 'gpt-4o', messages: [user], ...extra });
const weatherTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Get the weather',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
    strict: true,
  },
};

/**
 * [name, body, is it a plain OpenAI request (then the OpenAI spec must accept it too)].
 */
const valid: [string, Body, boolean][] = [
  ['minimal', base(), true],
  ['model with a provider prefix', { ...base(), model: 'openai/gpt-4o' }, true],
  // --- roles
  [
    'developer message',
    base({ messages: [{ role: 'developer', content: 'Be terse.', name: 'dev' }, user] }),
    true,
  ],
  [
    'system message',
    base({ messages: [{ role: 'system', content: 'You are helpful.' }, user] }),
    true,
  ],
  [
    'system message with text parts',
    base({
      messages: [
        {
          role: 'system',
          content: [
            { type: 'text', text: 'a' },
            { type: 'text', text: 'b' },
          ],
        },
        user,
      ],
    }),
    true,
  ],
  [
    'developer message with text parts',
    base({ messages: [{ role: 'developer', content: [{ type: 'text', text: 'a' }] }, user] }),
    true,
  ],
  [
    'user message with a name',
    base({ messages: [{ role: 'user', content: 'hi', name: 'alice' }] }),
    true,
  ],
  ['user message with an empty string', base({ messages: [{ role: 'user', content: '' }] }), true],
  [
    'assistant message (string), then user',
    base({
      messages: [
        user,
        { role: 'assistant', content: 'Hi there', name: 'bot' },
        { role: 'user', content: 'More' },
      ],
    }),
    true,
  ],
  [
    'assistant message with text and refusal parts',
    base({
      messages: [
        user,
        { role: 'assistant', content: [{ type: 'text', text: 'a' }] },
        { role: 'assistant', content: [{ type: 'refusal', refusal: 'no' }] },
      ],
    }),
    true,
  ],
  [
    'assistant message with refusal and null content',
    base({ messages: [user, { role: 'assistant', content: null, refusal: 'I cannot.' }] }),
    true,
  ],
  [
    'assistant tool call (content null) + tool result',
    base({
      tools: [weatherTool],
      messages: [
        user,
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            {
              id: 'call_1',
              type: 'function',
              function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
            },
          ],
        },
        { role: 'tool', tool_call_id: 'call_1', content: '{"temp":21}' },
      ],
    }),
    true,
  ],
  [
    'assistant tool call without content + tool result as text parts',
    base({
      messages: [
        user,
        {
          role: 'assistant',
          tool_calls: [
            { id: 'call_1', type: 'function', function: { name: 'f', arguments: '{}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'call_1', content: [{ type: 'text', text: 'done' }] },
      ],
    }),
    true,
  ],
  [
    'assistant custom tool call',
    base({
      messages: [
        user,
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'c1', type: 'custom', custom: { name: 'sql', input: 'SELECT 1' } }],
        },
      ],
    }),
    true,
  ],
  [
    'assistant with deprecated function_call + function message',
    base({
      messages: [
        user,
        {
          role: 'assistant',
          content: null,
          function_call: { name: 'get_weather', arguments: '{}' },
        },
        { role: 'function', name: 'get_weather', content: 'sunny' },
      ],
    }),
    true,
  ],
  [
    'function message with null content',
    base({ messages: [user, { role: 'function', name: 'f', content: null }] }),
    true,
  ],
  [
    'assistant audio reference',
    base({ messages: [user, { role: 'assistant', content: null, audio: { id: 'audio_1' } }] }),
    true,
  ],
  // --- user content parts
  [
    'user text part',
    base({ messages: [{ role: 'user', content: [{ type: 'text', text: 'What is this?' }] }] }),
    true,
  ],
  [
    'user image_url part (url + detail)',
    base({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is in this image?' },
            {
              type: 'image_url',
              image_url: { url: 'https://example.com/cat.png', detail: 'high' },
            },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
          ],
        },
      ],
    }),
    true,
  ],
  [
    'user image detail low / auto',
    base({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'image_url', image_url: { url: 'https://x/y.png', detail: 'low' } },
            { type: 'image_url', image_url: { url: 'https://x/y.png', detail: 'auto' } },
          ],
        },
      ],
    }),
    true,
  ],
  [
    'user input_audio part (wav, mp3)',
    base({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'input_audio', input_audio: { data: 'UklGRg==', format: 'wav' } },
            { type: 'input_audio', input_audio: { data: 'SUQz', format: 'mp3' } },
          ],
        },
      ],
    }),
    true,
  ],
  [
    'user file parts (file_data, file_id)',
    base({
      messages: [
        {
          role: 'user',
          content: [
            {
              type: 'file',
              file: { filename: 'a.pdf', file_data: 'data:application/pdf;base64,JVBERi0=' },
            },
            { type: 'file', file: { file_id: 'file-abc123' } },
          ],
        },
      ],
    }),
    true,
  ],
  [
    'OpenRouter: cache_control on a text part, image detail original, video_url',
    base({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'long doc', cache_control: { type: 'ephemeral', ttl: '5m' } },
            { type: 'image_url', image_url: { url: 'https://x/y.png', detail: 'original' } },
            { type: 'video_url', video_url: { url: 'https://x/y.mp4' } },
          ],
        },
      ],
    }),
    false,
  ],
  [
    'prompt_cache_breakpoint on a text part',
    base({
      messages: [
        {
          role: 'user',
          content: [{ type: 'text', text: 'x', prompt_cache_breakpoint: { mode: 'explicit' } }],
        },
      ],
    }),
    true,
  ],
  // --- tools
  ['function tool', base({ tools: [weatherTool] }), true],
  [
    'function tool without parameters',
    base({ tools: [{ type: 'function', function: { name: 'ping' } }] }),
    true,
  ],
  [
    'custom tools (text + grammar formats)',
    base({
      tools: [
        { type: 'custom', custom: { name: 'free', description: 'free text' } },
        { type: 'custom', custom: { name: 'txt', format: { type: 'text' } } },
        {
          type: 'custom',
          custom: {
            name: 'sql',
            format: { type: 'grammar', grammar: { definition: 'start: "SELECT"', syntax: 'lark' } },
          },
        },
      ],
    }),
    true,
  ],
  ['tool_choice none', base({ tools: [weatherTool], tool_choice: 'none' }), true],
  ['tool_choice auto', base({ tools: [weatherTool], tool_choice: 'auto' }), true],
  ['tool_choice required', base({ tools: [weatherTool], tool_choice: 'required' }), true],
  ['tool_choice none without tools', base({ tool_choice: 'none' }), true],
  [
    'tool_choice named function',
    base({
      tools: [weatherTool],
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
    }),
    true,
  ],
  [
    'tool_choice named custom tool',
    base({
      tools: [{ type: 'custom', custom: { name: 'sql' } }],
      tool_choice: { type: 'custom', custom: { name: 'sql' } },
    }),
    true,
  ],
  [
    'tool_choice allowed_tools',
    base({
      tools: [weatherTool],
      tool_choice: {
        type: 'allowed_tools',
        allowed_tools: {
          mode: 'auto',
          tools: [{ type: 'function', function: { name: 'get_weather' } }],
        },
      },
    }),
    true,
  ],
  ['parallel_tool_calls', base({ tools: [weatherTool], parallel_tool_calls: false }), true],
  [
    'deprecated functions + function_call',
    base({
      functions: [{ name: 'get_weather', parameters: { type: 'object' } }],
      function_call: { name: 'get_weather' },
    }),
    true,
  ],
  [
    'deprecated function_call auto',
    base({ functions: [{ name: 'f' }], function_call: 'auto' }),
    true,
  ],
  // --- response_format
  ['response_format text', base({ response_format: { type: 'text' } }), true],
  ['response_format json_object', base({ response_format: { type: 'json_object' } }), true],
  [
    'response_format json_schema',
    base({
      response_format: {
        type: 'json_schema',
        json_schema: {
          name: 'math_answer',
          description: 'd',
          strict: true,
          schema: { type: 'object', properties: { a: { type: 'number' } } },
        },
      },
    }),
    true,
  ],
  [
    'response_format json_schema with only a name',
    base({ response_format: { type: 'json_schema', json_schema: { name: 'x' } } }),
    true,
  ],
  // --- streaming
  ['stream true', base({ stream: true }), true],
  ['stream false', base({ stream: false }), true],
  ['stream null', base({ stream: null }), true],
  [
    'stream + stream_options',
    base({ stream: true, stream_options: { include_usage: true, include_obfuscation: false } }),
    true,
  ],
  ['stream_options null without stream', base({ stream_options: null }), true],
  // --- limits & sampling
  ['max_tokens', base({ max_tokens: 256 }), true],
  ['max_completion_tokens', base({ max_completion_tokens: 1 }), true],
  ['both token limits, null', base({ max_tokens: null, max_completion_tokens: null }), true],
  [
    'sampling params at their bounds',
    base({
      temperature: 0,
      top_p: 1,
      n: 128,
      presence_penalty: -2,
      frequency_penalty: 2,
      seed: -42,
      logprobs: true,
      top_logprobs: 20,
    }),
    true,
  ],
  [
    'sampling params, other bounds',
    base({
      temperature: 2,
      top_p: 0,
      n: 1,
      presence_penalty: 2,
      frequency_penalty: -2,
      top_logprobs: 0,
    }),
    true,
  ],
  [
    'sampling params null',
    base({
      temperature: null,
      top_p: null,
      n: null,
      presence_penalty: null,
      frequency_penalty: null,
      seed: null,
    }),
    true,
  ],
  ['seed beyond 2^53', base({ seed: 2 ** 53 + 2 }), true],
  ['logit_bias', base({ logit_bias: { '50256': -100, '1234': 100, '42': 0.5 } }), false],
  ['logit_bias (integers)', base({ logit_bias: { '50256': -100, '1234': 100 } }), true],
  ['stop string', base({ stop: '\n' }), true],
  ['stop array of 4', base({ stop: ['a', 'b', 'c', 'd'] }), true],
  ['stop null', base({ stop: null }), true],
  // --- misc OpenAI
  ['user', base({ user: 'user-1234' }), true],
  [
    'metadata with 16 keys',
    base({ metadata: Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`k${i}`, 'v'])) }),
    true,
  ],
  [
    'metadata at the length limits',
    base({ metadata: { ['k'.repeat(64)]: 'v'.repeat(512) } }),
    true,
  ],
  ['metadata null', base({ metadata: null }), true],
  ['store + service_tier', base({ store: true, service_tier: 'flex' }), true],
  ['reasoning_effort + verbosity', base({ reasoning_effort: 'high', verbosity: 'low' }), true],
  ['reasoning_effort minimal / none / xhigh', base({ reasoning_effort: 'xhigh' }), true],
  [
    'modalities + audio',
    base({ modalities: ['text', 'audio'], audio: { voice: 'alloy', format: 'wav' } }),
    true,
  ],
  [
    'audio with a custom voice',
    base({ modalities: ['audio'], audio: { voice: { id: 'voice_1234' }, format: 'pcm16' } }),
    true,
  ],
  ['prediction', base({ prediction: { type: 'content', content: 'the old file' } }), true],
  [
    'prediction as parts',
    base({ prediction: { type: 'content', content: [{ type: 'text', text: 'x' }] } }),
    true,
  ],
  [
    'web_search_options',
    base({
      web_search_options: {
        search_context_size: 'low',
        user_location: { type: 'approximate', approximate: { country: 'FR', city: 'Paris' } },
      },
    }),
    true,
  ],
  [
    'safety_identifier + prompt_cache_key + retention',
    base({ safety_identifier: 'hash-1', prompt_cache_key: 'k', prompt_cache_retention: '24h' }),
    true,
  ],
  ['prompt_cache_options', base({ prompt_cache_options: { ttl: '30m', mode: 'explicit' } }), true],
  // --- OpenRouter
  ['OpenRouter models', base({ models: ['openai/gpt-4o', 'anthropic/claude-sonnet-4'] }), false],
  [
    'OpenRouter provider preferences',
    base({
      provider: {
        order: ['openai', 'azure'],
        only: ['openai', 'azure'],
        ignore: ['deepinfra'],
        allow_fallbacks: false,
        require_parameters: true,
        data_collection: 'deny',
        sort: 'throughput',
        max_price: { prompt: 1, completion: 2.5, request: 0, image: 0.01 },
        quantizations: ['fp8', 'bf16'],
        zdr: true,
        preferred_max_latency: 5,
        preferred_min_throughput: { p50: 100, p90: 50 },
      },
    }),
    false,
  ],
  [
    'OpenRouter provider sort object',
    base({ provider: { sort: { by: 'price', partition: 'none' } } }),
    false,
  ],
  ['OpenRouter provider null', base({ provider: null }), false],
  ['OpenRouter route fallback', base({ models: ['a/b', 'c/d'], route: 'fallback' }), false],
  ['OpenRouter transforms', base({ transforms: ['middle-out'] }), false],
  ['OpenRouter reasoning', base({ reasoning: { effort: 'high', exclude: true } }), false],
  [
    'OpenRouter reasoning max_tokens / enabled',
    base({ reasoning: { max_tokens: 2000, enabled: true } }),
    false,
  ],
  [
    'OpenRouter reasoning equal to reasoning_effort',
    base({ reasoning: { effort: 'low' }, reasoning_effort: 'low' }),
    false,
  ],
  ['OpenRouter usage', base({ usage: { include: true } }), false],
  [
    'OpenRouter sampling extras',
    base({ top_k: 40, repetition_penalty: 1.1, min_p: 0.05, top_a: 0.1 }),
    false,
  ],
  [
    'OpenRouter plugins + session_id',
    base({ plugins: [{ id: 'web', max_results: 3 }], session_id: 'sess-1' }),
    false,
  ],
  [
    'OpenRouter assistant reasoning fields',
    base({
      messages: [
        user,
        {
          role: 'assistant',
          content: 'x',
          reasoning: 'thought',
          reasoning_details: [{ type: 'reasoning.text', text: 't' }],
        },
        user,
      ],
    }),
    false,
  ],
  // --- unknown fields
  [
    'unknown top-level fields',
    base({ foo: 'bar', vendor_options: { nested: [1, { deep: true }] }, zero: 0, nothing: null }),
    false,
  ],
  [
    'unknown fields inside messages and parts',
    base({
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'x', extra: 1 }], custom: { a: 1 } },
      ],
    }),
    false,
  ],
];

/** [name, body, param, message fragment, does the OpenAI spec reject it too?] */
const invalid: [string, unknown, string | null, string | RegExp, boolean][] = [
  // body
  ['body is an array', [], null, 'expected a JSON object, but got an array instead', false],
  ['body is a string', 'x', null, 'expected a JSON object, but got a string instead', false],
  ['body is null', null, null, 'expected a JSON object, but got null instead', false],
  ['body is a number', 42, null, 'expected a JSON object', false],
  ['no body', undefined, null, 'Missing request body', false],
  // required fields
  [
    'missing messages',
    { model: 'gpt-4o' },
    'messages',
    "Missing required parameter: 'messages'.",
    true,
  ],
  ['missing model', { messages: [user] }, 'model', "Missing required parameter: 'model'.", true],
  ['empty model', base({ model: '' }), 'model', "Invalid 'model': empty string.", false],
  [
    'model not a string',
    base({ model: 4 }),
    'model',
    "Invalid type for 'model': expected a string, but got an integer instead.",
    true,
  ],
  [
    'empty messages',
    base({ messages: [] }),
    'messages',
    "Invalid 'messages': empty array. Expected an array with minimum length 1",
    true,
  ],
  [
    'messages not an array',
    base({ messages: 'hi' }),
    'messages',
    "Invalid type for 'messages': expected an array, but got a string instead.",
    true,
  ],
  [
    'message not an object',
    base({ messages: ['hi'] }),
    'messages[0]',
    "Invalid type for 'messages[0]': expected an object",
    true,
  ],
  // roles & messages
  [
    'bad role',
    base({ messages: [{ role: 'bot', content: 'x' }] }),
    'messages[0].role',
    "Invalid value for 'messages[0].role': expected one of 'developer', 'system', 'user', 'assistant', 'tool' or 'function', got 'bot'.",
    true,
  ],
  [
    'missing role',
    base({ messages: [{ content: 'x' }] }),
    'messages[0].role',
    "Missing required parameter: 'messages[0].role'.",
    true,
  ],
  [
    'user message without content',
    base({ messages: [{ role: 'user' }] }),
    'messages[0].content',
    "Missing required parameter: 'messages[0].content'.",
    true,
  ],
  [
    'user message with null content',
    base({ messages: [{ role: 'user', content: null }] }),
    'messages[0].content',
    "Invalid type for 'messages[0].content': expected a string or an array, but got null instead.",
    true,
  ],
  [
    'user message with empty parts',
    base({ messages: [{ role: 'user', content: [] }] }),
    'messages[0].content',
    "Invalid 'messages[0].content': empty array.",
    true,
  ],
  [
    'tool message without tool_call_id',
    base({ messages: [user, { role: 'tool', content: 'x' }] }),
    'messages[1].tool_call_id',
    "Missing required parameter: 'messages[1].tool_call_id'.",
    true,
  ],
  [
    'system message with an image part',
    base({
      messages: [
        { role: 'system', content: [{ type: 'image_url', image_url: { url: 'https://x' } }] },
        user,
      ],
    }),
    'messages[0].content[0].type',
    "expected 'text', got 'image_url'",
    true,
  ],
  [
    'assistant without content or tool_calls',
    base({ messages: [user, { role: 'assistant' }] }),
    'messages[1].content',
    "Missing required parameter: 'messages[1].content'.",
    false,
  ],
  [
    'assistant with null content only',
    base({ messages: [user, { role: 'assistant', content: null }] }),
    'messages[1].content',
    "may only be null when it has 'tool_calls'",
    false,
  ],
  [
    'assistant with empty tool_calls and no content',
    base({ messages: [user, { role: 'assistant', tool_calls: [] }] }),
    'messages[1].content',
    'Missing required parameter',
    false,
  ],
  [
    'tool call without id',
    base({
      messages: [
        user,
        {
          role: 'assistant',
          tool_calls: [{ type: 'function', function: { name: 'f', arguments: '{}' } }],
        },
      ],
    }),
    'messages[1].tool_calls[0].id',
    "Missing required parameter: 'messages[1].tool_calls[0].id'.",
    true,
  ],
  [
    'tool call with object arguments',
    base({
      messages: [
        user,
        {
          role: 'assistant',
          tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: {} } }],
        },
      ],
    }),
    'messages[1].tool_calls[0].function.arguments',
    "Invalid type for 'messages[1].tool_calls[0].function.arguments': expected a string, but got an object instead.",
    true,
  ],
  [
    'function message without name',
    base({ messages: [user, { role: 'function', content: 'x' }] }),
    'messages[1].name',
    "Missing required parameter: 'messages[1].name'.",
    true,
  ],
  [
    'name not a string',
    base({ messages: [{ role: 'user', content: 'x', name: 5 }] }),
    'messages[0].name',
    "Invalid type for 'messages[0].name'",
    true,
  ],
  // content parts
  [
    'bad content part type',
    base({ messages: [{ role: 'user', content: [{ type: 'image', url: 'https://x' }] }] }),
    'messages[0].content[0].type',
    "Invalid value for 'messages[0].content[0].type': expected one of 'text', 'image_url', 'input_audio', 'file', 'video_url' or 'input_video', got 'image'.",
    true,
  ],
  [
    'content part without type',
    base({ messages: [{ role: 'user', content: [{ text: 'x' }] }] }),
    'messages[0].content[0].type',
    "Missing required parameter: 'messages[0].content[0].type'.",
    true,
  ],
  [
    'text part without text',
    base({ messages: [{ role: 'user', content: [{ type: 'text' }] }] }),
    'messages[0].content[0].text',
    "Missing required parameter: 'messages[0].content[0].text'.",
    true,
  ],
  [
    'image part without url',
    base({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: {} }] }] }),
    'messages[0].content[0].image_url.url',
    'Missing required parameter',
    true,
  ],
  [
    'image part as a string (legacy shape)',
    base({
      messages: [{ role: 'user', content: [{ type: 'image_url', image_url: 'https://x' }] }],
    }),
    'messages[0].content[0].image_url',
    'expected an object, but got a string instead',
    true,
  ],
  [
    'bad image detail',
    base({
      messages: [
        {
          role: 'user',
          content: [{ type: 'image_url', image_url: { url: 'https://x', detail: 'ultra' } }],
        },
      ],
    }),
    'messages[0].content[0].image_url.detail',
    "got 'ultra'",
    true,
  ],
  [
    'bad audio format',
    base({
      messages: [
        {
          role: 'user',
          content: [{ type: 'input_audio', input_audio: { data: 'x', format: 'mid' } }],
        },
      ],
    }),
    'messages[0].content[0].input_audio.format',
    "got 'mid'",
    true,
  ],
  [
    'file part with neither file_data nor file_id',
    base({
      messages: [{ role: 'user', content: [{ type: 'file', file: { filename: 'a.pdf' } }] }],
    }),
    'messages[0].content[0].file',
    "expected one of 'file_data' or 'file_id'",
    false,
  ],
  // sampling
  [
    'temperature 3',
    base({ temperature: 3 }),
    'temperature',
    "Invalid value for 'temperature': expected a number between 0 and 2, got 3.",
    true,
  ],
  [
    'temperature -0.5',
    base({ temperature: -0.5 }),
    'temperature',
    'expected a number between 0 and 2, got -0.5',
    true,
  ],
  [
    'temperature as a string',
    base({ temperature: '0.7' }),
    'temperature',
    "Invalid type for 'temperature': expected a number, but got a string instead.",
    true,
  ],
  [
    'top_p -1',
    base({ top_p: -1 }),
    'top_p',
    "Invalid value for 'top_p': expected a number between 0 and 1, got -1.",
    true,
  ],
  ['top_p 1.5', base({ top_p: 1.5 }), 'top_p', 'expected a number between 0 and 1, got 1.5', true],
  [
    'n 0',
    base({ n: 0 }),
    'n',
    "Invalid value for 'n': expected an integer between 1 and 128, got 0.",
    true,
  ],
  ['n 129', base({ n: 129 }), 'n', 'expected an integer between 1 and 128, got 129', true],
  [
    'n 1.5',
    base({ n: 1.5 }),
    'n',
    "Invalid type for 'n': expected an integer, but got a decimal number instead.",
    true,
  ],
  [
    'presence_penalty 2.5',
    base({ presence_penalty: 2.5 }),
    'presence_penalty',
    'expected a number between -2 and 2, got 2.5',
    true,
  ],
  [
    'frequency_penalty -3',
    base({ frequency_penalty: -3 }),
    'frequency_penalty',
    'expected a number between -2 and 2, got -3',
    true,
  ],
  [
    'top_logprobs 21',
    base({ top_logprobs: 21 }),
    'top_logprobs',
    'expected an integer between 0 and 20, got 21',
    true,
  ],
  [
    'logprobs as a string',
    base({ logprobs: 'yes' }),
    'logprobs',
    "Invalid type for 'logprobs': expected a boolean, but got a string instead.",
    true,
  ],
  [
    'seed 1.5',
    base({ seed: 1.5 }),
    'seed',
    "Invalid type for 'seed': expected an integer, but got a decimal number instead.",
    true,
  ],
  [
    'logit_bias out of range',
    base({ logit_bias: { '50256': 101 } }),
    'logit_bias.50256',
    "Invalid value for 'logit_bias.50256': expected a number between -100 and 100, got 101.",
    false,
  ],
  [
    'logit_bias with a non-token key',
    base({ logit_bias: { hello: 1 } }),
    'logit_bias',
    "Invalid key in 'logit_bias': expected a token ID",
    false,
  ],
  [
    'logit_bias as an array',
    base({ logit_bias: [1] }),
    'logit_bias',
    "Invalid type for 'logit_bias': expected an object, but got an array instead.",
    true,
  ],
  // token limits
  [
    'max_tokens 0',
    base({ max_tokens: 0 }),
    'max_tokens',
    "Invalid value for 'max_tokens': expected an integer greater than or equal to 1, got 0.",
    false,
  ],
  [
    'max_tokens 1.5',
    base({ max_tokens: 1.5 }),
    'max_tokens',
    "Invalid type for 'max_tokens': expected an integer, but got a decimal number instead.",
    true,
  ],
  [
    'max_tokens "10"',
    base({ max_tokens: '10' }),
    'max_tokens',
    "Invalid type for 'max_tokens': expected an integer, but got a string instead.",
    true,
  ],
  [
    'max_completion_tokens -5',
    base({ max_completion_tokens: -5 }),
    'max_completion_tokens',
    'expected an integer greater than or equal to 1, got -5',
    false,
  ],
  [
    'max_completion_tokens true',
    base({ max_completion_tokens: true }),
    'max_completion_tokens',
    'expected an integer, but got a boolean instead',
    true,
  ],
  // stop
  [
    'stop with 5 entries',
    base({ stop: ['a', 'b', 'c', 'd', 'e'] }),
    'stop',
    "Invalid 'stop': array too long. Expected an array with maximum length 4, but got an array with length 5 instead.",
    true,
  ],
  ['stop empty array', base({ stop: [] }), 'stop', "Invalid 'stop': empty array.", true],
  [
    'stop with a number inside',
    base({ stop: ['a', 1] }),
    'stop[1]',
    "Invalid type for 'stop[1]': expected a string, but got an integer instead.",
    true,
  ],
  [
    'stop as a number',
    base({ stop: 5 }),
    'stop',
    "Invalid type for 'stop': expected a string or an array, but got an integer instead.",
    true,
  ],
  // misc
  [
    'user as a number',
    base({ user: 42 }),
    'user',
    "Invalid type for 'user': expected a string",
    true,
  ],
  [
    'metadata with 17 keys',
    base({ metadata: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v'])) }),
    'metadata',
    "Invalid 'metadata': too many properties. Expected an object with at most 16 properties, but got an object with 17 properties instead.",
    false,
  ],
  [
    'metadata with a long key',
    base({ metadata: { ['k'.repeat(65)]: 'v' } }),
    'metadata',
    'key too long',
    false,
  ],
  [
    'metadata with a long value',
    base({ metadata: { note: 'v'.repeat(513) } }),
    'metadata.note',
    "Invalid 'metadata.note': string too long. Expected a string with maximum length 512",
    false,
  ],
  [
    'metadata with a number value',
    base({ metadata: { n: 1 } }),
    'metadata.n',
    "Invalid type for 'metadata.n': expected a string, but got an integer instead.",
    true,
  ],
  ['bad service_tier', base({ service_tier: 'turbo' }), 'service_tier', "got 'turbo'", true],
  [
    'bad reasoning_effort',
    base({ reasoning_effort: 'extreme' }),
    'reasoning_effort',
    "Invalid value for 'reasoning_effort': expected one of 'none', 'minimal', 'low', 'medium', 'high', 'xhigh' or 'max', got 'extreme'.",
    true,
  ],
  ['bad verbosity', base({ verbosity: 'chatty' }), 'verbosity', "got 'chatty'", true],
  ['bad modality', base({ modalities: ['text', 'smell'] }), 'modalities[1]', "got 'smell'", true],
  [
    'audio without format',
    base({ audio: { voice: 'alloy' } }),
    'audio.format',
    "Missing required parameter: 'audio.format'.",
    true,
  ],
  [
    'safety_identifier too long',
    base({ safety_identifier: 'x'.repeat(65) }),
    'safety_identifier',
    "Invalid 'safety_identifier': string too long. Expected a string with maximum length 64, but got a string with length 65 instead.",
    true,
  ],
  [
    'prediction of the wrong type',
    base({ prediction: { type: 'diff', content: 'x' } }),
    'prediction.type',
    "expected 'content', got 'diff'",
    true,
  ],
  // tools
  [
    'tools with a bad function name',
    base({ tools: [{ type: 'function', function: { name: 'get weather!' } }] }),
    'tools[0].function.name',
    "Invalid value for 'tools[0].function.name': expected a string matching the pattern '^[a-zA-Z0-9_-]{1,64}$', got 'get weather!'.",
    false,
  ],
  [
    'tools with a 65-char function name',
    base({ tools: [{ type: 'function', function: { name: 'a'.repeat(65) } }] }),
    'tools[0].function.name',
    'expected a string matching the pattern',
    false,
  ],
  [
    'tool without function',
    base({ tools: [{ type: 'function' }] }),
    'tools[0].function',
    "Missing required parameter: 'tools[0].function'.",
    true,
  ],
  [
    'tool of an unknown type',
    base({ tools: [{ type: 'retrieval', function: { name: 'x' } }] }),
    'tools[0].type',
    "expected one of 'function', 'custom', 'openrouter:advisor'",
    false,
  ],
  [
    'tool parameters not an object',
    base({ tools: [{ type: 'function', function: { name: 'f', parameters: 'none' } }] }),
    'tools[0].function.parameters',
    "Invalid type for 'tools[0].function.parameters': expected an object, but got a string instead.",
    true,
  ],
  [
    'tools not an array',
    base({ tools: weatherTool }),
    'tools',
    "Invalid type for 'tools': expected an array, but got an object instead.",
    true,
  ],
  [
    'tool_choice naming nothing valid (string)',
    base({ tools: [weatherTool], tool_choice: 'any' }),
    'tool_choice',
    "Invalid value for 'tool_choice': expected one of 'none', 'auto' or 'required', got 'any'.",
    true,
  ],
  [
    'tool_choice of an unknown object type',
    base({ tools: [weatherTool], tool_choice: { type: 'tool', name: 'x' } }),
    'tool_choice.type',
    "Invalid value for 'tool_choice.type': expected one of 'function', 'custom' or 'allowed_tools', got 'tool'.",
    true,
  ],
  [
    'tool_choice function without name',
    base({ tools: [weatherTool], tool_choice: { type: 'function', function: {} } }),
    'tool_choice.function.name',
    "Missing required parameter: 'tool_choice.function.name'.",
    true,
  ],
  [
    'tool_choice as a number',
    base({ tools: [weatherTool], tool_choice: 1 }),
    'tool_choice',
    "Invalid type for 'tool_choice': expected a string or an object, but got an integer instead.",
    true,
  ],
  [
    'tool_choice naming an undeclared function',
    base({
      tools: [weatherTool],
      tool_choice: { type: 'function', function: { name: 'get_time' } },
    }),
    'tool_choice.function.name',
    "no function named 'get_time' is declared in 'tools'",
    false,
  ],
  [
    'tool_choice naming a function without tools',
    base({ tool_choice: { type: 'function', function: { name: 'get_time' } } }),
    'tool_choice.function.name',
    "no function named 'get_time'",
    false,
  ],
  [
    'tool_choice required without tools',
    base({ tool_choice: 'required' }),
    'tool_choice',
    "'required' is only allowed when 'tools' are specified",
    false,
  ],
  [
    'allowed_tools with a bad mode',
    base({
      tools: [weatherTool],
      tool_choice: { type: 'allowed_tools', allowed_tools: { mode: 'none', tools: [] } },
    }),
    'tool_choice.allowed_tools.mode',
    "got 'none'",
    true,
  ],
  [
    'function_call naming an undeclared function',
    base({ functions: [{ name: 'f' }], function_call: { name: 'g' } }),
    'function_call.name',
    "no function named 'g'",
    false,
  ],
  [
    'empty functions',
    base({ functions: [] }),
    'functions',
    "Invalid 'functions': empty array.",
    true,
  ],
  // response_format
  [
    'response_format json_schema without name',
    base({ response_format: { type: 'json_schema', json_schema: { schema: { type: 'object' } } } }),
    'response_format.json_schema.name',
    "Missing required parameter: 'response_format.json_schema.name'.",
    true,
  ],
  [
    'response_format json_schema without json_schema',
    base({ response_format: { type: 'json_schema' } }),
    'response_format.json_schema',
    "Missing required parameter: 'response_format.json_schema'.",
    true,
  ],
  [
    'response_format json_schema with a bad name',
    base({ response_format: { type: 'json_schema', json_schema: { name: 'my schema' } } }),
    'response_format.json_schema.name',
    'expected a string matching the pattern',
    false,
  ],
  [
    'response_format of an unknown type',
    base({ response_format: { type: 'json' } }),
    'response_format.type',
    "got 'json'",
    true,
  ],
  [
    'response_format as a string',
    base({ response_format: 'json_object' }),
    'response_format',
    "Invalid type for 'response_format': expected an object, but got a string instead.",
    true,
  ],
  // streaming
  [
    'stream_options without stream',
    base({ stream_options: { include_usage: true } }),
    'stream_options',
    "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
    false,
  ],
  [
    'stream_options with stream false',
    base({ stream: false, stream_options: { include_usage: true } }),
    'stream_options',
    "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
    false,
  ],
  [
    'stream as a string',
    base({ stream: 'true' }),
    'stream',
    "Invalid type for 'stream': expected a boolean, but got a string instead.",
    true,
  ],
  [
    'stream_options.include_usage as a string',
    base({ stream: true, stream_options: { include_usage: 'yes' } }),
    'stream_options.include_usage',
    'expected a boolean',
    true,
  ],
  // OpenRouter
  [
    'models not an array',
    base({ models: 'openai/gpt-4o' }),
    'models',
    "Invalid type for 'models': expected an array",
    false,
  ],
  [
    'models with an empty entry',
    base({ models: ['a/b', ''] }),
    'models[1]',
    "Invalid 'models[1]': empty string.",
    false,
  ],
  [
    'provider.sort unknown',
    base({ provider: { sort: 'cheapest' } }),
    'provider.sort',
    "expected one of 'price', 'throughput', 'latency' or 'exacto', got 'cheapest'",
    false,
  ],
  [
    'provider.data_collection unknown',
    base({ provider: { data_collection: 'maybe' } }),
    'provider.data_collection',
    "expected one of 'allow' or 'deny', got 'maybe'",
    false,
  ],
  [
    'provider.max_price negative',
    base({ provider: { max_price: { prompt: -1 } } }),
    'provider.max_price.prompt',
    'expected a non-negative number',
    false,
  ],
  [
    'provider.max_price not numeric',
    base({ provider: { max_price: { completion: 'cheap' } } }),
    'provider.max_price.completion',
    "expected a non-negative number or a numeric string, got 'cheap'",
    false,
  ],
  [
    'provider.stall_timeout_ms negative',
    base({ provider: { stall_timeout_ms: -1 } }),
    'provider.stall_timeout_ms',
    'expected an integer greater than or equal to 0',
    false,
  ],
  [
    'provider.first_token_timeout_ms not an integer',
    base({ provider: { first_token_timeout_ms: '5s' } }),
    'provider.first_token_timeout_ms',
    'expected an integer',
    false,
  ],
  [
    'provider.order not an array',
    base({ provider: { order: 'openai' } }),
    'provider.order',
    "Invalid type for 'provider.order': expected an array",
    false,
  ],
  [
    'route unknown',
    base({ route: 'cheapest' }),
    'route',
    "expected one of 'fallback' or 'sort', got 'cheapest'",
    false,
  ],
  [
    'reasoning effort unknown',
    base({ reasoning: { effort: 'huge' } }),
    'reasoning.effort',
    "got 'huge'",
    false,
  ],
  [
    'reasoning conflicting with reasoning_effort',
    base({ reasoning: { effort: 'high' }, reasoning_effort: 'low' }),
    'reasoning_effort',
    "conflicts with 'reasoning.effort'",
    false,
  ],
  [
    'usage.include not a boolean',
    base({ usage: { include: 1 } }),
    'usage.include',
    'expected a boolean',
    false,
  ],
  [
    'top_k negative',
    base({ top_k: -1 }),
    'top_k',
    'expected an integer greater than or equal to 0, got -1',
    false,
  ],
  [
    'repetition_penalty 0',
    base({ repetition_penalty: 0 }),
    'repetition_penalty',
    'expected a number greater than 0 and at most 2, got 0',
    false,
  ],
  ['min_p 2', base({ min_p: 2 }), 'min_p', 'expected a number between 0 and 1, got 2', false],
];

function assertOk(body: unknown): ChatCompletionRequest {
  const r = parseChatCompletionRequest(body);
  if (!r.ok)
    assert.fail(`expected valid, got ${r.error.status} [${r.error.param}] ${r.error.message}`);
  return r.value;
}

describe('parseChatCompletionRequest: valid requests', () => {
  for (const [name, body] of valid) {
    test(name, () => {
      const value = assertOk(body);
      // Everything, unknown fields included, is preserved as sent.
      assert.deepEqual(value, body);
    });
  }
});

describe('parseChatCompletionRequest: invalid requests', () => {
  for (const [name, body, param, fragment] of invalid) {
    test(name, () => {
      const r = parseChatCompletionRequest(body);
      assert.equal(r.ok, false, 'expected a validation error');
      if (r.ok) return;
      assert.ok(r.error instanceof ApiError);
      assert.equal(r.error.status, 400);
      assert.equal(r.error.type, 'invalid_request_error');
      assert.equal(r.error.param, param);
      if (typeof fragment === 'string')
        assert.ok(r.error.message.includes(fragment), `message was: ${r.error.message}`);
      else assert.match(r.error.message, fragment);
      const body400 = r.error.toBody();
      assert.equal(body400.error.param, param);
      assert.equal(body400.error.message, r.error.message);
    });
  }
});

describe('faithfulness to the OpenAI spec (CreateChatCompletionRequest)', () => {
  const spec = loadSpec('openai-openapi.yaml');
  for (const [name, body, openai] of valid) {
    if (!openai) continue;
    test(`spec accepts: ${name}`, () => {
      assert.deepEqual(spec.validate('CreateChatCompletionRequest', body), []);
    });
  }
  for (const [name, body, , , specRejects] of invalid) {
    if (!specRejects) continue;
    test(`spec rejects too: ${name}`, () => {
      assert.notDeepEqual(spec.validate('CreateChatCompletionRequest', body), []);
    });
  }
});

describe('OpenRouter requests: models-only, and fields accepted but not implemented', () => {
  test('models without model: the first entry is the primary', () => {
    const body = { models: ['turnpike/sim-small', 'turnpike/sim-large'], messages: [user] };
    const value = assertOk(body);
    assert.equal(value.model, 'turnpike/sim-small');
    assert.deepEqual(value.models, ['turnpike/sim-small', 'turnpike/sim-large']);
    assert.equal('model' in body, false, 'the body itself is not touched');
  });

  test('neither model nor models (or an empty models): 400 naming model', () => {
    for (const body of [{ messages: [user] }, { models: [], messages: [user] }]) {
      const r = parseChatCompletionRequest(body);
      assert.equal(r.ok, false);
      if (r.ok) return;
      assert.equal(r.error.status, 400);
      assert.equal(r.error.param, 'model');
      assert.match(r.error.message, /Missing required parameter: 'model'/);
    }
  });

  // Every OpenRouter chat request field Turnpike does not act on yet, as OpenRouter documents it.
  const ignored: Array<[string, Body]> = [
    ['transforms', { transforms: ['middle-out'] }],
    ['route', { route: 'fallback' }],
    ['usage', { usage: { include: true } }],
    ['reasoning', { reasoning: { effort: 'high', exclude: true } }],
    ['plugins', { plugins: [{ id: 'web', max_results: 3 }, { id: 'file-parser' }] }],
    ['user', { user: 'end-user-42' }],
    ['session_id', { session_id: 'sess-1' }],
    ['prediction', { prediction: { type: 'content', content: 'Hello' } }],
    ['debug', { debug: { echo_upstream_body: true } }],
    ['trace', { trace: { trace_id: 't', span_name: 's', generation_name: 'g' } }],
    ['cache_control', { cache_control: { type: 'ephemeral' } }],
    ['image_config', { image_config: { aspect_ratio: '16:9' } }],
    ['stop_server_tools_when', { stop_server_tools_when: [{ type: 'max_tool_calls', n: 2 }] }],
    ['web_search_options', { web_search_options: { search_context_size: 'high' } }],
    ['server tools', { tools: [{ type: 'openrouter:web_search' }, { type: 'web_search' }] }],
    [
      'provider extras',
      {
        provider: {
          zdr: true,
          enforce_distillable_text: false,
          preferred_max_latency: { p90: 2 },
          preferred_min_throughput: 50,
          experimental_flag: true,
          max_price: { prompt: 1, completion: 2, web_search: 0.1 },
        },
      },
    ],
    ['provider.quantizations we do not know', { provider: { quantizations: ['fp3', 'int4'] } }],
    ['provider.sort as an object', { provider: { sort: { by: 'price', partition: 'none' } } }],
    [
      'input_video content',
      {
        messages: [
          {
            role: 'user',
            content: [{ type: 'input_video', video_url: { url: 'https://x/v.mp4' } }],
          },
        ],
      },
    ],
    ['a field nobody knows', { x_future_field: { nested: [1, 2, 3] } }],
  ];
  for (const [name, extra] of ignored) {
    test(`${name}: accepted, passed through as sent`, () => {
      const body = base(extra);
      assert.deepEqual(assertOk(body), body);
    });
  }

  test('a malformed function tool is still a 400 beside server tools', () => {
    const r = parseChatCompletionRequest(
      base({ tools: [{ type: 'openrouter:datetime' }, { type: 'function' }] }),
    );
    assert.equal(r.ok, false);
    if (!r.ok) assert.equal(r.error.param, 'tools[1].function');
  });
});

describe('parsed values', () => {
  test('unknown top-level fields are preserved with their values', () => {
    const value = assertOk(base({ foo: { bar: [1, 2] }, x_flag: false }));
    assert.deepEqual(value['foo'], { bar: [1, 2] });
    assert.equal(value['x_flag'], false);
  });

  test('the value is a copy: mutating it does not touch the body', () => {
    const body = base({ temperature: 1 });
    const value = assertOk(body);
    value.messages.push({ role: 'user', content: 'more' });
    (value as Record<string, unknown>)['temperature'] = 0;
    assert.equal((body['messages'] as unknown[]).length, 1);
    assert.equal(body['temperature'], 1);
  });

  test('provider time limits (Turnpike extensions) are clamped into 1-60 s', () => {
    const limits = (v: unknown) =>
      assertOk(base({ provider: { stall_timeout_ms: v, first_token_timeout_ms: v } })).provider;
    assert.deepEqual(
      [0, 999, 1000, 2500, 60_000, 600_000].map((v) => limits(v)?.stall_timeout_ms),
      [1000, 1000, 1000, 2500, 60_000, 60_000],
    );
    assert.equal(limits(120_000)?.first_token_timeout_ms, 60_000);
    assert.equal(limits(null)?.stall_timeout_ms, null);
    assert.equal(assertOk(base({ provider: {} })).provider?.stall_timeout_ms, undefined);
  });

  test('provider.max_price accepts numeric strings and yields numbers', () => {
    const value = assertOk(base({ provider: { max_price: { prompt: '1.5', completion: 2 } } }));
    assert.deepEqual(value.provider?.max_price, { prompt: 1.5, completion: 2 });
  });

  test('never throws, whatever the input', () => {
    const weird: unknown[] = [
      base({ messages: [{ role: 'user', content: [null] }] }),
      base({ messages: [{ role: { nested: 1 }, content: 'x' }] }),
      base({ tools: [null] }),
      base({ provider: [] }),
      base({ metadata: { ['__proto__']: 'x' } }),
      JSON.parse(
        '{"model":"m","messages":[{"role":"user","content":"x"}],"__proto__":{"polluted":true}}',
      ),
      Object.create(null),
      () => 1,
      Symbol('x'),
    ];
    for (const w of weird) {
      const r = parseChatCompletionRequest(w);
      if (!r.ok) assert.equal(r.error.status, 400);
    }
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
  });

  test('the first issue is the one reported', () => {
    const r = parseChatCompletionRequest({
      model: 'm',
      messages: [{ role: 'user' }],
      temperature: 3,
    });
    assert.equal(r.ok, false);
    if (!r.ok) assert.equal(r.error.param, 'messages[0].content');
  });
});

describe('helpers', () => {
  test('formatParamPath', () => {
    assert.equal(formatParamPath([]), null);
    assert.equal(formatParamPath(['temperature']), 'temperature');
    assert.equal(
      formatParamPath(['messages', 0, 'content', 2, 'image_url', 'url']),
      'messages[0].content[2].image_url.url',
    );
    assert.equal(formatParamPath([0]), '[0]');
  });
});

describe('hot path', () => {
  test('the request schema is fully AOT-compilable', () => {
    // Throws ZodCompileUnsupportedError if any part would fall back to the interpreter.
    assert.doesNotThrow(() => z.compile(chatCompletionRequestSchema, { strict: true }));
  });

  test('a typical request parses in well under a millisecond', () => {
    const body = base({
      messages: [
        { role: 'system', content: 'You are helpful.' },
        ...Array.from({ length: 20 }, (_, i) => ({
          role: i % 2 ? 'assistant' : 'user',
          content: `message ${i}`,
        })),
      ],
      tools: [weatherTool, weatherTool],
      temperature: 0.7,
      max_tokens: 100,
      stream: true,
      stream_options: { include_usage: true },
    });
    for (let i = 0; i < 200; i++) parseChatCompletionRequest(body);
    const n = 2000;
    const t0 = performance.now();
    for (let i = 0; i < n; i++) parseChatCompletionRequest(body);
    const perCall = (performance.now() - t0) / n;
    assert.ok(perCall < 1, `took ${perCall.toFixed(3)} ms per parse`);
  });
});

// Compile-time checks of the exported types (no runtime assertions needed).
const _message: ChatMessage = { role: 'tool', content: 'x', tool_call_id: 'call_1' };
const _tool: ChatTool = {
  type: 'function',
  function: { name: 'f', parameters: { type: 'object' } },
};
const _choice: ToolChoice = { type: 'function', function: { name: 'f' } };
const _provider: ProviderPreferences = {
  order: ['openai'],
  sort: 'price',
  max_price: { prompt: 1 },
  data_collection: 'deny',
};
function _narrow(m: ChatMessage): string | undefined {
  switch (m.role) {
    case 'tool':
      return m.tool_call_id;
    case 'assistant':
      return m.tool_calls?.[0]?.id;
    default:
      return undefined;
  }
}
void [_message, _tool, _choice, _provider, _narrow];

describe('parseWithSchema: any body, errors worded like the chat request', () => {
  const schema = z.strictObject({
    kind: z.enum(['openai', 'anthropic']),
    pricing: z.strictObject({ prompt: z.string().regex(/^\d+$/) }),
    context_length: z.number().int().positive().max(1000),
  });
  const ok = { kind: 'openai', pricing: { prompt: '1' }, context_length: 10 };
  const error = (body: unknown) => {
    const r = parseWithSchema(schema, body);
    assert.equal(r.ok, false);
    return (r as { error: ApiError }).error.toBody().error;
  };

  test('a valid body is returned parsed', () => {
    assert.deepEqual(parseWithSchema(schema, ok), { ok: true, value: ok });
  });

  test('an invalid enum names the parameter and lists the valid values', () => {
    const e = error({ ...ok, kind: 'bogus' });
    assert.equal(e.param, 'kind');
    assert.equal(e.type, 'invalid_request_error');
    assert.equal(
      e.message,
      "Invalid value for 'kind': expected one of 'openai' or 'anthropic', got 'bogus'.",
    );
  });

  test('unknown fields, nested problems, missing fields and absurd numbers', () => {
    assert.deepEqual(
      [error({ ...ok, extra: 1 }).param, error({ ...ok, extra: 1 }).message],
      ['extra', 'Unrecognized request argument supplied: extra'],
    );
    assert.equal(error({ ...ok, pricing: { prompt: '-1' } }).param, 'pricing.prompt');
    assert.equal(error({ ...ok, pricing: { prompt: '1', x: 1 } }).param, 'pricing.x');
    assert.equal(
      error({ pricing: ok.pricing, context_length: 1 }).message,
      "Missing required parameter: 'kind'.",
    );
    assert.match(
      error({ ...ok, context_length: 2000 }).message,
      /'context_length'.*<= 1000, got 2000/,
    );
    assert.equal(error({ ...ok, context_length: 1e21 }).param, 'context_length');
  });

  test('a body that is not an object', () => {
    assert.equal(nonObjectBodyError({}), undefined);
    assert.match(
      nonObjectBodyError([1])?.message ?? '',
      /expected a JSON object, but got an array/,
    );
    assert.match(nonObjectBodyError('x')?.message ?? '', /but got a string/);
    assert.match(nonObjectBodyError(undefined)?.message ?? '', /Missing request body/);
  });
});
