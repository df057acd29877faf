import path from 'node:path';
import {
  readState,
  restartKafkaDataDir,
  stopKafkaDataDir,
  turnpikeCacheDir,
} from '@turnpike/testing';

/** The platform's state dir: the runner writes the context file into it. */
function stateDir(): string {
  const file = process.env['TURNPIKE_TEST_CONTEXT'];
  if (!file) throw new Error('TURNPIKE_TEST_CONTEXT is not set: run the suites with `npm test`.');
  return path.dirname(file);
}

function kafkaDataDir(): string {
  const state = readState(stateDir());
  if (!state) throw new Error(`no platform state in ${stateDir()}`);
  return state.kafka.dataDir;
}

/** The platform's service processes as they run now (earlier suites may have restarted some). */
export function runningServices(): Array<{ name: string; pid: number }> {
  const state = readState(stateDir());
  if (!state) throw new Error(`no platform state in ${stateDir()}`);
  return state.services.map((s) => ({ name: s.name, pid: s.pid }));
}

/** Stops the test platform's Kafka broker (SIGTERM, then SIGKILL after `graceMs`). */
export async function stopBroker(graceMs = 15_000): Promise<void> {
  if (!(await stopKafkaDataDir(kafkaDataDir(), graceMs)))
    throw new Error('the Kafka broker was not running');
}

/** Starts the test platform's broker again, on the same ports and data; resolves once it answers. */
export async function startBroker(): Promise<void> {
  const cacheDir = turnpikeCacheDir();
  await restartKafkaDataDir(kafkaDataDir(), {
    cacheDir,
    logFile: path.join(stateDir(), 'logs', 'kafka.log'),
  });
}
