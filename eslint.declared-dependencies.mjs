// ESLint rule `turnpike/declared-dependencies`: what `@nx/dependency-checks` leaves out of "each
// package declares exactly what it imports". That rule checks only `dependencies` (and
// peer/optional) against the files of the package's build inputs; it never looks at
// `devDependencies` nor at the files the build inputs exclude (specs, test support), and it
// accepts ranges. With npm workspaces everything is hoisted to the root `node_modules`, so a spec
// importing a package that only another workspace declares still compiles and runs: only a lint
// can catch it.
//
// This rule reads the same Nx project graph and file map (`nx show projects` writes them before
// ESLint runs). For each workspace package.json, the test files are the files OUTSIDE the build
// target's inputs, plus `testSupportFiles`:
// - a package (third-party or `@turnpike/*`) they import that runtime code does not import must be
//   in `devDependencies` (or already in `dependencies`);
// - every `devDependencies` entry must be imported by one of them (`@types/x` counts as imported
//   where `x` is imported) and must not also be in `dependencies`;
// - where `@types/x` is installed and the package imports `x`, `@types/x` must be declared
//   (hoisting would otherwise let the build find another package's copy);
// - `dependencies` and `devDependencies` pin exactly the installed version (`*` for workspace
//   packages);
// - a package without the build target is reported, because `@nx/dependency-checks` silently
//   skips it.
import path from 'node:path';
import { readCachedProjectGraph, workspaceRoot } from '@nx/devkit';
import {
  createProjectRootMappings,
  fileDataDepTarget,
  filterUsingGlobPatterns,
  findProjectForPath,
  getTargetInputs,
  readFileMapCache,
  readNxJsonFromDisk,
} from '@nx/devkit/internal';

let cached;
function workspace() {
  cached ??= (() => {
    let graph;
    try {
      graph = readCachedProjectGraph();
    } catch (e) {
      // Never pass silently: without the graph nothing would be checked.
      throw new Error(
        `turnpike/declared-dependencies needs the Nx project graph: run \`nx show projects\` first (bash scripts/turnpike lint does). ${e.message}`,
      );
    }
    return {
      graph,
      roots: createProjectRootMappings(graph.nodes),
      fileMap: readFileMapCache().fileMap.projectFileMap,
      nxJson: readNxJsonFromDisk(),
    };
  })();
  return cached;
}

/** `@types/pg` for `pg`, `@types/babel__core` for `@babel/core`. */
const typesPackageOf = (name) =>
  name.startsWith('@') ? `@types/${name.slice(1).replace('/', '__')}` : `@types/${name}`;

/** name -> version ('*' for a workspace package) of what `files` import. */
function importedPackages(files, graph, selfName) {
  const found = new Map();
  for (const file of files) {
    for (const dep of file.deps ?? []) {
      const target = fileDataDepTarget(dep);
      const external = graph.externalNodes?.[target];
      if (external?.type === 'npm') {
        found.set(external.data.packageName, external.data.version);
        continue;
      }
      const name = graph.nodes[target]?.data.metadata?.js?.packageName;
      if (name && name !== selfName) found.set(name, '*');
    }
  }
  return found;
}

const declaredDependencies = {
  meta: {
    type: 'problem',
    docs: { description: 'devDependencies match what the test files import; exact pins' },
    schema: [
      {
        type: 'object',
        properties: {
          buildTargets: { type: 'array', items: { type: 'string' } },
          testSupportFiles: { type: 'array', items: { type: 'string' } },
        },
        additionalProperties: false,
      },
    ],
    messages: {
      noBuildTarget:
        'Project "{{project}}" has no "{{targets}}" target, so its dependencies cannot be checked: add `"scripts": { "build": "tsc -b" }`.',
      missing:
        'The "{{project}}" project imports these packages in test files (or needs these types), but they are missing from "devDependencies":{{names}}',
      obsolete: 'The "{{name}}" package is not imported by any test file of "{{project}}".',
      runtimeOnly:
        'The "{{name}}" package is imported only by runtime code of "{{project}}": it belongs in "dependencies".',
      duplicate: 'The "{{name}}" package is declared in both "dependencies" and "devDependencies".',
      version: 'Pin "{{name}}" exactly to the installed version: "{{version}}".',
    },
  },
  create(context) {
    const { buildTargets = ['build'], testSupportFiles = [] } = context.options[0] ?? {};
    const rel = path.relative(workspaceRoot, context.filename).split(path.sep).join('/');
    if (path.posix.basename(rel) !== 'package.json') return {};
    const { graph, roots, fileMap, nxJson } = workspace();
    const project = graph.nodes[findProjectForPath(rel, roots)];
    if (!project || `${project.data.root}/package.json` !== rel) return {};
    const projectName = project.name;
    const pkg = JSON.parse(context.sourceCode.getText());
    const files = (fileMap[projectName] ?? []).filter((f) => f.file !== rel);

    return {
      'JSONExpressionStatement > JSONObjectExpression'(root) {
        const buildTarget = buildTargets.find((t) => project.data.targets?.[t]);
        if (!buildTarget) {
          context.report({
            node: root,
            messageId: 'noBuildTarget',
            data: { project: projectName, targets: buildTargets.join('" or "') },
          });
          return;
        }
        const runtimeInputs = [
          ...getTargetInputs(nxJson, project, buildTarget).selfInputs,
          ...testSupportFiles.map((p) => `!${p}`),
        ];
        const runtimeFiles = new Set(
          filterUsingGlobPatterns(project.data.root, files, runtimeInputs).map((f) => f.file),
        );
        const runtimeUsed = importedPackages(
          files.filter((f) => runtimeFiles.has(f.file)),
          graph,
          pkg.name,
        );
        const testUsed = importedPackages(
          files.filter((f) => !runtimeFiles.has(f.file)),
          graph,
          pkg.name,
        );
        for (const name of [...runtimeUsed.keys(), ...testUsed.keys()]) {
          const types = graph.externalNodes?.[`npm:${typesPackageOf(name)}`];
          if (types) testUsed.set(types.data.packageName, types.data.version);
        }
        const installed = (name) =>
          runtimeUsed.get(name) ??
          testUsed.get(name) ??
          graph.externalNodes?.[`npm:${name}`]?.data.version;
        const section = (key) => root.properties.find((p) => p.key.value === key);
        const entries = (key) => section(key)?.value.properties ?? [];
        const checkPin = (entry) => {
          const version = installed(entry.key.value);
          if (version !== undefined && entry.value.value !== version) {
            context.report({
              node: entry,
              messageId: 'version',
              data: { name: entry.key.value, version },
            });
          }
        };

        const deps = { ...pkg.optionalDependencies, ...pkg.peerDependencies, ...pkg.dependencies };
        const dev = pkg.devDependencies ?? {};
        const missing = [...testUsed.keys()].filter(
          (n) => !runtimeUsed.has(n) && !(n in deps) && !(n in dev),
        );
        if (missing.length > 0) {
          context.report({
            node: section('devDependencies') ?? root,
            messageId: 'missing',
            data: { project: projectName, names: missing.map((n) => `\n    - ${n}`).join('') },
          });
        }
        // Membership of `dependencies` is @nx/dependency-checks' job; the exact pin is ours.
        entries('dependencies').forEach(checkPin);
        for (const entry of entries('devDependencies')) {
          const name = entry.key.value;
          const data = { name, project: projectName };
          if (name in deps) {
            context.report({ node: entry, messageId: 'duplicate', data });
          } else if (!testUsed.has(name)) {
            const messageId = runtimeUsed.has(name) ? 'runtimeOnly' : 'obsolete';
            context.report({ node: entry, messageId, data });
          } else {
            checkPin(entry);
          }
        }
      },
    };
  },
};

export default { rules: { 'declared-dependencies': declaredDependencies } };
