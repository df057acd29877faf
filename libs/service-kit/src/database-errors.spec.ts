import assert from 'node:assert/strict';
import { test } from 'node:test';
import { QueryFailedError } from 'typeorm';
import { isDeterministicDbError, sqlState } from './database-errors.js';

/** An error as `pg` reports one from the server (pg-protocol's DatabaseError fields). */
function pgError(code: string, message = 'refused'): Error {
  return Object.assign(new Error(message), { name: 'error', severity: 'ERROR', code });
}

test('a SQLSTATE is read from pg errors and from TypeORM around them, never from system errors', () => {
  assert.equal(sqlState(pgError('22P05')), '22P05');
  assert.equal(sqlState(new QueryFailedError('INSERT ...', [], pgError('23514'))), '23514');
  // Node system errors carry codes too, but no severity: not a SQLSTATE.
  const epipe = Object.assign(new Error('write EPIPE'), { code: 'EPIPE', errno: -32 });
  assert.equal(sqlState(epipe), null);
  assert.equal(sqlState(new Error('Connection terminated unexpectedly')), null);
  assert.equal(sqlState(undefined), null);
  assert.equal(sqlState('22003'), null);
});

test('deterministic: data exceptions, constraint violations, program limits, raise_exception', () => {
  for (const code of [
    '22003',
    '22P05',
    '22008',
    '22021',
    '23514',
    '23505',
    '23502',
    '54000',
    'P0001',
  ])
    assert.equal(isDeterministicDbError(pgError(code)), true, code);
  assert.equal(isDeterministicDbError(new QueryFailedError('q', [], pgError('22P05'))), true);
});

test('transient or systemic, never pinned on a record: connection, serialization, shutdown, schema', () => {
  for (const code of [
    '08006', // connection failure
    '40001', // serialization failure
    '40P01', // deadlock
    '53100', // disk full
    '55P03', // lock not available
    '57P01', // admin shutdown
    '57P03', // cannot connect now
    '57014', // statement timeout
    '58030', // I/O error
    'XX000', // internal error
    '42P01', // undefined table: the schema, not the record
    '42501', // insufficient privilege
    '25P02', // in failed transaction
    'P0002', // no_data_found: not raise_exception
  ])
    assert.equal(isDeterministicDbError(pgError(code)), false, code);
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), {
    code: 'ECONNREFUSED',
  });
  assert.equal(isDeterministicDbError(refused), false);
  assert.equal(isDeterministicDbError(new Error('Connection terminated unexpectedly')), false);
  assert.equal(isDeterministicDbError(new RangeError('not a safe integer')), false);
});
