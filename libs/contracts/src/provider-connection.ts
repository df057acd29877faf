import { z } from 'zod';

/**
 * How the connector authenticates to one provider account: a discriminated union, because the
 * protocols sign differently (a bearer or `x-api-key` header, Azure's `api-key` plus a
 * deployment and an `api-version`, AWS SigV4 over the body and the time, a Vertex token).
 * Secrets: these objects only ever live in the connector's memory; at rest and on topics they
 * are encrypted (see the provider accounts of the connector).
 */
export const ApiKeyCredentials = z.object({
  type: z.literal('api_key'),
  apiKey: z.string().min(1),
});

export const AzureCredentials = z.object({
  type: z.literal('azure'),
  apiKey: z.string().min(1),
  /** Azure OpenAI's `api-version` query parameter, e.g. `2024-10-21`. */
  apiVersion: z.string().min(1).default('2024-10-21'),
  /**
   * Deployment names by upstream model; a model without an entry is called with a deployment
   * of its own name (Azure's common convention).
   */
  deployments: z.record(z.string(), z.string().min(1)).default({}),
});

export const AwsCredentials = z.object({
  type: z.literal('aws'),
  accessKeyId: z.string().min(1),
  secretAccessKey: z.string().min(1),
  sessionToken: z.string().min(1).optional(),
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'an AWS region such as us-east-1'),
});

export const VertexCredentials = z.object({
  type: z.literal('vertex'),
  /** An OAuth2 access token of a service account (minted outside the gateway). */
  accessToken: z.string().min(1),
  projectId: z.string().min(1),
  location: z.string().min(1).default('us-central1'),
});

export const ProviderCredentials = z.discriminatedUnion('type', [
  ApiKeyCredentials,
  AzureCredentials,
  AwsCredentials,
  VertexCredentials,
]);
export type ProviderCredentials = z.infer<typeof ProviderCredentials>;
export type ApiKeyCredentials = z.infer<typeof ApiKeyCredentials>;
export type AzureCredentials = z.infer<typeof AzureCredentials>;
export type AwsCredentials = z.infer<typeof AwsCredentials>;
export type VertexCredentials = z.infer<typeof VertexCredentials>;

/** Everything the connector needs to call one provider account. */
export const ProviderConnection = z.object({
  /** Base URL of the provider's API (the provider's public one in production, a simulator here). */
  baseUrl: z.url(),
  credentials: ProviderCredentials,
  /** Extra headers the account needs (organisation, project, a gateway's routing header). */
  headers: z.record(z.string(), z.string()).optional(),
});
export type ProviderConnection = z.infer<typeof ProviderConnection>;
