/**
 * docs/benchmarks.md is written by several benches: each owns a section between two markers and
 * keeps the others'. Also the results' JSON beside it, and prettier over both.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** A marked section of a document ('' when it has none). */
export function sectionOf(document: string, start: string, end: string): string {
  const a = document.indexOf(start);
  const b = document.indexOf(end);
  return a >= 0 && b > a ? document.slice(a, b + end.length) : '';
}

/** A marked section inside a whole document: replaced in place, or appended. */
export function mergeSection(document: string, section: string, start: string, end: string) {
  const a = document.indexOf(start);
  const b = document.indexOf(end);
  if (a >= 0 && b > a)
    return `${document.slice(0, a)}${section.trimEnd()}\n${document.slice(b + end.length).replace(/^\n+/, '\n')}`;
  return document.trim() === ''
    ? `${section.trimEnd()}\n`
    : `${document.trimEnd()}\n\n${section.trimEnd()}\n`;
}

/** The repository's prettier over what we wrote (the docs are kept formatted); best effort. */
export function prettier(rootDir: string, files: string[], log: (line: string) => void): void {
  try {
    execFileSync(path.join(rootDir, 'node_modules/.bin/prettier'), ['--write', ...files], {
      cwd: rootDir,
      stdio: 'ignore',
    });
  } catch (e) {
    log(`prettier did not run: ${(e as Error).message.split('\n')[0]}`);
  }
}

/** Writes `results` to `jsonFile` and `section` into `outFile` (merged), then formats both. */
export function writeResults(opts: {
  rootDir: string;
  jsonFile: string;
  outFile: string;
  results: unknown;
  section: string;
  merge: (document: string, section: string) => string;
  log: (line: string) => void;
}): void {
  mkdirSync(path.dirname(opts.jsonFile), { recursive: true });
  writeFileSync(opts.jsonFile, `${JSON.stringify(opts.results, null, 2)}\n`);
  const previous = existsSync(opts.outFile) ? readFileSync(opts.outFile, 'utf8') : '';
  writeFileSync(opts.outFile, opts.merge(previous, opts.section));
  prettier(opts.rootDir, [opts.outFile, opts.jsonFile], opts.log);
  opts.log(
    `wrote ${path.relative(process.cwd(), opts.outFile)} and ${path.relative(process.cwd(), opts.jsonFile)}`,
  );
}
