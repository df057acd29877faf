import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';

/**
 * SHA-256 (or, given a key, HMAC-SHA256) from node:crypto in the shape of the `sha256`
 * constructor `@smithy/signature-v4` takes: what the tests compare our signer with.
 */
export class NodeSha256 {
  private h: Hash | Hmac;
  private readonly key: string | Uint8Array | undefined;

  constructor(key?: string | ArrayBuffer | ArrayBufferView) {
    this.key =
      key === undefined || typeof key === 'string'
        ? key
        : ArrayBuffer.isView(key)
          ? new Uint8Array(key.buffer, key.byteOffset, key.byteLength)
          : new Uint8Array(key);
    this.h = this.fresh();
  }

  private fresh(): Hash | Hmac {
    return this.key === undefined ? createHash('sha256') : createHmac('sha256', this.key);
  }

  update(data: string | Uint8Array): void {
    this.h.update(data);
  }

  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.h.digest()));
  }

  reset(): void {
    this.h = this.fresh();
  }
}
