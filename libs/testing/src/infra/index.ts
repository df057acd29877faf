export { turnpikeCacheDir } from './cache-dir.js';
export { freePort, freePorts } from './ports.js';
export {
  KAFKA_VERSION,
  ensureKafkaDistribution,
  kafkaPortsOf,
  randomClusterId,
  restartKafkaDataDir,
  startKafka,
  stopKafkaDataDir,
  type KafkaDistribution,
  type KafkaHandle,
  type StartKafkaOptions,
} from './kafka.js';
export {
  nativeDir as postgresNativeDir,
  nativeMirrorOf as postgresNativeMirrorOf,
  startPostgres,
  stopPostgresDataDir,
  type PostgresHandle,
  type StartPostgresOptions,
} from './postgres.js';
export {
  isAlive,
  spawnService,
  stopPid,
  waitForExit,
  waitForHttp,
  type SpawnServiceOptions,
  type WaitForHttpOptions,
} from './process.js';
export { collectGarbage, cpuSeconds, inspectorUrlFromLog, scrapeMetric } from './probes.js';
