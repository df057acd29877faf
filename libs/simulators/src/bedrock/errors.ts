/**
 * Bedrock's error responses (restJson1): the exception's name in `x-amzn-errortype`
 * (`ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/`), the body
 * `{"message": "..."}`. Authentication failures come from AWS's front end (its own namespace)
 * with 403. Statuses and messages are those of the Converse API reference and AWS's common errors.
 */
import { STATUS_CODES } from 'node:http';
import { retryAfterHeaders, SimHttpError } from '../core/sim-error.js';

const BEDROCK_NS = 'http://internal.amazon.com/coral/com.amazon.bedrock/';
const CORAL_NS = 'http://internal.amazon.com/coral/com.amazon.coral.service/';

export function awsError(
  status: number,
  type: string,
  message: string,
  headers: Record<string, string> = {},
  ns = BEDROCK_NS,
): SimHttpError {
  return new SimHttpError(status, { message }, { 'x-amzn-errortype': `${type}:${ns}`, ...headers });
}

/** A validation error in the form of AWS's request validation. */
const constraint = (value: unknown, path: string, rule: string) =>
  `1 validation error detected: Value '${String(value)}' at '${path}' failed to satisfy constraint: ${rule}`;

export const errors = {
  validation: (message: string) => awsError(400, 'ValidationException', message),
  constraint: (value: unknown, path: string, rule: string) =>
    awsError(400, 'ValidationException', constraint(value, path, rule)),
  /** What Bedrock relays of a model's own refusal of the request. */
  model: (message: string) =>
    awsError(400, 'ValidationException', `The model returned the following errors: ${message}`),
  serialization: () =>
    awsError(400, 'SerializationException', 'The request body could not be parsed as JSON.'),
  invalidModel: () =>
    awsError(400, 'ValidationException', 'The provided model identifier is invalid.'),
  contextLength: () =>
    awsError(400, 'ValidationException', 'Input is too long for requested model.'),
  missingAuth: () =>
    awsError(
      403,
      'MissingAuthenticationTokenException',
      'Missing Authentication Token',
      {},
      CORAL_NS,
    ),
  incompleteSignature: (message: string) =>
    awsError(403, 'IncompleteSignatureException', message, {}, CORAL_NS),
  unrecognizedClient: (status = 403) =>
    awsError(
      status,
      'UnrecognizedClientException',
      'The security token included in the request is invalid.',
      {},
      CORAL_NS,
    ),
  invalidSignature: (message: string) =>
    awsError(403, 'InvalidSignatureException', message, {}, CORAL_NS),
  accessDenied: () =>
    awsError(
      403,
      'AccessDeniedException',
      "You don't have access to the model with the specified model ID.",
    ),
  resourceNotFound: () =>
    awsError(
      404,
      'ResourceNotFoundException',
      'The specified resource ARN was not found. Check the ARN and try your request again.',
    ),
  unknownOperation: () =>
    awsError(404, 'UnknownOperationException', 'Unknown operation.', {}, CORAL_NS),
  modelTimeout: () =>
    awsError(
      408,
      'ModelTimeoutException',
      'Model has timed out in processing the request. Try your request again.',
    ),
  modelError: () =>
    awsError(
      424,
      'ModelErrorException',
      'The request failed due to an error while processing the model.',
    ),
  throttling: (retryAfterSec?: number) =>
    awsError(
      429,
      'ThrottlingException',
      'Too many requests, please wait before trying again.',
      retryAfterHeaders(retryAfterSec),
    ),
  internal: (status = 500) =>
    awsError(
      status,
      'InternalServerException',
      'The server encountered an internal error while processing the request.',
    ),
  unavailable: (status = 503, retryAfterSec?: number) =>
    awsError(
      status,
      'ServiceUnavailableException',
      'Bedrock is unable to process your request.',
      retryAfterHeaders(retryAfterSec),
    ),
};

/**
 * The exception Bedrock answers with for the `status` knob. Bedrock has no 401 (AWS answers 403
 * to a bad key): a 401 is answered with the exception of an unknown key under that status.
 */
export function errorForStatus(
  status: number,
  ctx: { retryAfterSec?: number; message?: string },
): SimHttpError {
  const e = bedrockErrorForStatus(status, ctx.retryAfterSec);
  if (ctx.message === undefined) return e;
  return new SimHttpError(e.status, { message: ctx.message }, e.headers);
}

function bedrockErrorForStatus(status: number, retryAfterSec?: number): SimHttpError {
  switch (status) {
    case 400:
      return errors.validation(
        'Malformed input request, please reformat your input and try again.',
      );
    case 401:
      return errors.unrecognizedClient(401);
    case 403:
      return errors.accessDenied();
    case 404:
      return errors.resourceNotFound();
    case 408:
      return errors.modelTimeout();
    case 424:
      return errors.modelError();
    case 429:
      return errors.throttling(retryAfterSec);
    case 500:
      return errors.internal();
    case 503:
    case 529:
      return errors.unavailable(status, retryAfterSec);
    default:
      return status >= 500
        ? awsError(
            status,
            'InternalServerException',
            `${STATUS_CODES[status] ?? 'Error'}.`,
            retryAfterHeaders(retryAfterSec),
          )
        : awsError(status, 'ValidationException', `${STATUS_CODES[status] ?? 'Error'}.`);
  }
}

/** The in-stream exception of the `stream_error` knob (a ConverseStream exception frame). */
export const STREAM_ERROR = {
  type: 'modelStreamErrorException',
  body: {
    message: 'An error occurred while streaming the response. Retry your request.',
    originalStatusCode: 500,
    originalMessage: 'Internal server error',
  },
};
