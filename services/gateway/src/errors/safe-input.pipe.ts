import { Injectable, type ArgumentMetadata, type PipeTransform } from '@nestjs/common';
import { findNulText } from '@turnpike/contracts';
import { invalidRequest } from '@turnpike/openai-api';

/**
 * The gateway's one check of hostile text in path parameters, query parameters and (admin)
 * bodies, applied to every controller as a global pipe: a NUL character (U+0000) is a 400 naming
 * the parameter, before anything reaches the services and Postgres (which cannot store NUL in
 * text). The chat completions body is not piped (its controller reads the raw request): message
 * content goes to the upstream, not to a database.
 */
@Injectable()
export class SafeInputPipe implements PipeTransform {
  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    if (metadata.type !== 'query' && metadata.type !== 'param' && metadata.type !== 'body')
      return value;
    const at = findNulText(value);
    if (at === null) return value;
    const param = [metadata.data, at].filter((p) => p !== undefined && p !== '').join('.') || null;
    throw invalidRequest(
      `Invalid ${metadata.type === 'body' ? 'value' : `${metadata.type} parameter`}${param ? ` '${param}'` : ''}: text must not contain NUL (U+0000) characters.`,
      param,
      'invalid_value',
    );
  }
}
