/**
 * What the project's token estimator costs on the hot path (`node bench/dist/tokens.js`): the
 * tokenizer's load, `countTokens` on 100 KB of prose, code and adversarial text (no
 * whitespace, rare CJK), and `estimatePrompt` (what 402 admission and the context-window filter
 * call once per request) on prompts of 10 KB to 4 MB. Figures are medians of several runs on
 * the machine it runs on; docs/architecture.md ("Token estimates") quotes them.
 */
import { performance } from 'node:perf_hooks';

const t0 = performance.now();
const { countTokens, estimatePrompt } = await import('@turnpike/providers');
const loadMs = performance.now() - t0;

let seed = 7;
const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648);
const WORDS =
  'the quick brown fox jumps over a lazy dog while seven wizards quietly judge boxing matches in distant provinces of an old empire'.split(
    ' ',
  );

function make(kind: 'prose' | 'code' | 'cjk' | 'latin', chars: number): string {
  const out: string[] = [];
  let n = 0;
  while (n < chars) {
    let s: string;
    if (kind === 'prose') s = WORDS[rnd() % WORDS.length]! + (rnd() % 11 === 0 ? '. ' : ' ');
    else if (kind === 'code') s = `const v${rnd() % 9999} = f(${rnd() % 100}, "k${rnd() % 50}");\n`;
    else if (kind === 'cjk') s = String.fromCharCode(0x4e00 + (rnd() % 3000));
    else s = String.fromCharCode(97 + (rnd() % 26));
    out.push(s);
    n += s.length;
  }
  return out.join('').slice(0, chars);
}

function median(fn: () => void, runs = 5): number {
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const a = performance.now();
    fn();
    ms.push(performance.now() - a);
  }
  return ms.sort((a, b) => a - b)[Math.floor(runs / 2)]!;
}

console.log(`tokenizer (o200k_base) load: ${loadMs.toFixed(0)} ms`);
for (const kind of ['prose', 'code', 'latin', 'cjk'] as const) {
  const text = make(kind, 100_000);
  let tokens = 0;
  const ms = median(() => (tokens = countTokens(text)), 3);
  console.log(`countTokens 100 K chars of ${kind}: ${tokens} tokens in ${ms.toFixed(1)} ms`);
}
for (const kind of ['prose', 'cjk'] as const) {
  for (const chars of [10_000, 100_000, 1_000_000, 4_000_000]) {
    const content = make(kind, chars);
    let e = estimatePrompt({ messages: [{ role: 'user', content }] });
    const ms = median(() => {
      // A new body each run: estimatePrompt caches per body object.
      e = estimatePrompt({ messages: [{ role: 'user', content }] });
    });
    console.log(
      `estimatePrompt ${chars / 1000} K chars of ${kind}: ${e.tokens} tokens (low ${e.low}, high ${e.high}, ${e.exact ? 'exact' : 'extrapolated'}) in ${ms.toFixed(1)} ms`,
    );
  }
}
