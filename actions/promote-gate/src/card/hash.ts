/** The release card's identity: sha256 of its exact UTF-8 bytes, as the signed statement carries it. */
import { createHash } from 'node:crypto';

export function cardHash(card: string): string {
  return `sha256:${createHash('sha256').update(card, 'utf8').digest('hex')}`;
}
