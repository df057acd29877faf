/** What every service's config class exposes to the shared kit. */
export interface ServiceBaseConfig {
  readonly serviceName: string;
  readonly instanceId: string;
  readonly kafkaBrokers: string[];
  readonly httpHost: string;
  readonly httpPort: number;
  readonly shutdownGraceMs: number;
  readonly logLevel: 'debug' | 'info' | 'warn' | 'error';
}

export const SERVICE_CONFIG = Symbol('SERVICE_CONFIG');
