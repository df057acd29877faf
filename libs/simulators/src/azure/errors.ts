/**
 * Azure OpenAI's error bodies: `{error: {code, message, ...}}`, where `code` is Azure's own
 * (`DeploymentNotFound`, `content_filter`, `429`, `401`) and `innererror` details a content
 * filter. Sources: Azure OpenAI REST reference (https://learn.microsoft.com/azure/ai-services/openai/reference),
 * content filtering (https://learn.microsoft.com/azure/ai-services/openai/concepts/content-filter),
 * quotas (https://learn.microsoft.com/azure/ai-services/openai/quotas-limits).
 */
import { STATUS_CODES } from 'node:http';
import { retryAfterHeaders, SimHttpError } from '../core/sim-error.js';

const azureError = (
  status: number,
  error: Record<string, unknown>,
  headers: Record<string, string> = {},
): SimHttpError => new SimHttpError(status, { error }, headers);

/** Annotations of a prompt or answer that passed every filter. */
export const SAFE_FILTER_RESULTS = {
  hate: { filtered: false, severity: 'safe' },
  self_harm: { filtered: false, severity: 'safe' },
  sexual: { filtered: false, severity: 'safe' },
  violence: { filtered: false, severity: 'safe' },
};

export const azureErrors = {
  accessDenied: () =>
    azureError(401, {
      code: '401',
      message:
        'Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.',
    }),
  deploymentNotFound: () =>
    azureError(404, {
      code: 'DeploymentNotFound',
      message:
        'The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again.',
    }),
  resourceNotFound: () => azureError(404, { code: '404', message: 'Resource not found' }),
  missingApiVersion: () =>
    azureError(404, {
      code: '404',
      message: 'Resource not found',
    }),
  contentFilter: () =>
    azureError(400, {
      message:
        "The response was filtered due to the prompt triggering Azure OpenAI's content management policy. Please modify your prompt and retry. To learn more about our content filtering policies please read our documentation: https://go.microsoft.com/fwlink/?linkid=2198766",
      type: null,
      param: 'prompt',
      code: 'content_filter',
      status: 400,
      innererror: {
        code: 'ResponsibleAIPolicyViolation',
        content_filter_result: {
          ...SAFE_FILTER_RESULTS,
          violence: { filtered: true, severity: 'high' },
        },
      },
    }),
  rateLimited: (retryAfterSec: number | undefined) => {
    const wait = Math.ceil(retryAfterSec ?? 1);
    return azureError(
      429,
      {
        code: '429',
        message: `Requests to the ChatCompletions_Create Operation under Azure OpenAI API version 2024-10-21 have exceeded token rate limit of your current OpenAI S0 pricing tier. Please retry after ${wait} seconds. Please go here: https://aka.ms/oai/quotaincrease if you would like to further increase the default rate limit.`,
      },
      retryAfterHeaders(retryAfterSec ?? 1),
    );
  },
  serverError: () =>
    azureError(500, {
      code: 'InternalServerError',
      message: 'The service is temporarily unable to process your request. Please try again later.',
    }),
  unavailable: (retryAfterSec: number | undefined) =>
    azureError(
      503,
      {
        code: 'ServiceUnavailable',
        message:
          'The service is temporarily unable to process your request. Please try again later.',
      },
      retryAfterHeaders(retryAfterSec),
    ),
};

/** The error Azure answers with for the `status` knob. */
export function azureErrorForStatus(
  status: number,
  ctx: { retryAfterSec?: number; message?: string },
): SimHttpError {
  const e = ((): SimHttpError => {
    switch (status) {
      case 400:
        return azureErrors.contentFilter();
      case 401:
        return azureErrors.accessDenied();
      case 403:
        return azureError(403, {
          code: 'PermissionDenied',
          message: 'Principal does not have access to API/Operation.',
        });
      case 404:
        return azureErrors.deploymentNotFound();
      case 429:
        return azureErrors.rateLimited(ctx.retryAfterSec);
      case 500:
        return azureErrors.serverError();
      case 503:
        return azureErrors.unavailable(ctx.retryAfterSec);
      default:
        return azureError(status, {
          code: String(status),
          message: STATUS_CODES[status] ?? 'Error',
        });
    }
  })();
  if (ctx.message === undefined) return e;
  const body = e.body as { error: Record<string, unknown> };
  return new SimHttpError(e.status, { error: { ...body.error, message: ctx.message } }, e.headers);
}
