import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { apiBasePath, rewritePublicUrl } from './public-url.js';

describe('public URLs', () => {
  test('OpenRouter’s /api/v1 prefix maps onto /v1, for every route', () => {
    assert.equal(rewritePublicUrl('/api/v1/chat/completions'), '/v1/chat/completions');
    assert.equal(
      rewritePublicUrl('/api/v1/models?offset=0&limit=5'),
      '/v1/models?offset=0&limit=5',
    );
    assert.equal(rewritePublicUrl('/api/v1/key'), '/v1/key');
    assert.equal(rewritePublicUrl('/api/v1/generation?id=gen-1'), '/v1/generation?id=gen-1');
    assert.equal(rewritePublicUrl('/api/v1'), '/v1');
    assert.equal(rewritePublicUrl('/v1/credits'), '/v1/credits');
    assert.equal(rewritePublicUrl('/api/v10/x'), '/api/v10/x', 'only the exact prefix');
    assert.equal(rewritePublicUrl('/admin/tenants'), '/admin/tenants');
  });

  test('an encoded slash in a model id (openai’s models.retrieve) reaches author/slug', () => {
    assert.equal(
      rewritePublicUrl('/v1/models/turnpike%2Fsim-small'),
      '/v1/models/turnpike/sim-small',
    );
    assert.equal(rewritePublicUrl('/api/v1/models/a%2fb/endpoints'), '/v1/models/a/b/endpoints');
    assert.equal(rewritePublicUrl('/v1/model/a%2Fb'), '/v1/model/a/b');
    // Elsewhere %2F stays data, and the query is never touched.
    assert.equal(rewritePublicUrl('/admin/tenants/a%2Fb'), '/admin/tenants/a%2Fb');
    assert.equal(rewritePublicUrl('/v1/generation?id=a%2Fb'), '/v1/generation?id=a%2Fb');
    assert.equal(rewritePublicUrl('/v1/models?q=a%2Fb'), '/v1/models?q=a%2Fb');
  });

  test('the base path for links is the one the client used', () => {
    assert.equal(apiBasePath({ originalUrl: '/api/v1/models', url: '/v1/models' }), '/api/v1');
    assert.equal(apiBasePath({ originalUrl: '/v1/models', url: '/v1/models' }), '/v1');
    assert.equal(apiBasePath({ url: '/v1/models' }), '/v1');
  });
});
