/**
 * A secret as people may see it: a well-known prefix (`sk-`, `gsk_`, `AKIA`...) and the last four
 * characters, `sk-…wxyz`. Short secrets show nothing but the ellipsis: four characters of a
 * 12-character secret are too much of it.
 */
export function maskSecret(secret: string): string {
  if (secret.length < 16) return '…';
  const prefix = /^(?:[A-Za-z]{2,4}[-_]|AKIA|ASIA)/.exec(secret)?.[0] ?? '';
  return `${prefix}…${secret.slice(-4)}`;
}
