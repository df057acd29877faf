/**
 * A catalog document as committed: JSON indented by two spaces, with arrays of strings and
 * numbers on one line, so that a re-import's diff shows one line per changed price or limit.
 */
export function renderCatalog(doc: unknown): string {
  return `${render(doc, '')}\n`;
}

function render(v: unknown, indent: string): string {
  if (Array.isArray(v)) {
    if (v.every((x) => typeof x !== 'object' || x === null))
      return `[${v.map((x) => JSON.stringify(x)).join(', ')}]`;
    const inner = indent + '  ';
    return `[\n${v.map((x) => inner + render(x, inner)).join(',\n')}\n${indent}]`;
  }
  if (typeof v === 'object' && v !== null) {
    const entries = Object.entries(v).filter(([, x]) => x !== undefined);
    if (entries.length === 0) return '{}';
    const inner = indent + '  ';
    return `{\n${entries.map(([k, x]) => `${inner}${JSON.stringify(k)}: ${render(x, inner)}`).join(',\n')}\n${indent}}`;
  }
  return JSON.stringify(v);
}
