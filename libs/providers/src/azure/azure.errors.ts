/**
 * How Azure OpenAI writes its errors: OpenAI's `{error: {...}}` envelope with Azure's own codes
 * (`DeploymentNotFound`, `content_filter`, `"429"`, `"401"`) and, for a content filter, an
 * `innererror` (`ResponsibleAIPolicyViolation`, `content_filter_result`). Sources: Azure OpenAI
 * REST reference, https://learn.microsoft.com/azure/ai-services/openai/reference#error-response;
 * content filtering, https://learn.microsoft.com/azure/ai-services/openai/concepts/content-filter.
 */
import { isObj } from '../core/json.js';
import {
  OPENAI_ERROR_DIALECT,
  readCommonErrorBody,
  type ErrorDialect,
  type UpstreamErrorDetails,
} from '../errors/index.js';

export const AZURE_ERROR_DIALECT: ErrorDialect = {
  read(json: unknown): UpstreamErrorDetails | null {
    const d = readCommonErrorBody(json);
    if (!d || !isObj(json) || !isObj(json['error'])) return d;
    // The inner error's code says more than a bare status code ("400") would.
    const inner = json['error']['innererror'];
    const innerCode = isObj(inner) && typeof inner['code'] === 'string' ? inner['code'] : null;
    return { ...d, type: d.type ?? innerCode };
  },
  ...(OPENAI_ERROR_DIALECT.kindOf ? { kindOf: OPENAI_ERROR_DIALECT.kindOf } : {}),
};
