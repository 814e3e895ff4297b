/**
 * Shortening for one-line causes: the decisive words of a cause are usually at its end
 * ("... not found", "... Connection refused"), so text is cut in the middle, never at the end;
 * digests and long image names (repeated by container runtimes three times a message) shrink first.
 */

const DIGEST_RE = /\b(sha256:[a-f0-9]{12})[a-f0-9]{52}\b/g;
const IMAGE_TOKEN_RE = /[A-Za-z0-9][\w.-]*(?::\d+)?\/[\w./-]+(?::[\w][\w.-]*)?(?:@sha256:[a-f0-9]{12}…)?/g;

/** Digests to their first 12 hex digits (hosts kept whole, where the registry is the point). */
export function shortenDigests(text: string): string {
  return text.replace(DIGEST_RE, '$1…');
}

/** An image reference for a one-line message: digest to 12 hex digits, a long registry host to its first label. */
export function shortenImage(ref: string): string {
  let s = shortenDigests(ref);
  const slash = s.indexOf('/');
  if (s.length > 60 && slash > 0) {
    const host = s.slice(0, slash);
    if (host.includes('.')) s = `${host.split('.')[0]}…${s.slice(slash)}`;
  }
  return s;
}

/** Cuts the middle of `text` so it fits `max` characters, keeping its start and (the larger part) its end. */
export function cutMiddle(text: string, max: number): string {
  if (text.length <= max) return text;
  const head = Math.floor((max - 3) * 0.35);
  const tail = max - 3 - head;
  return `${text.slice(0, head)} … ${text.slice(text.length - tail)}`;
}

/**
 * One line of a cause: whitespace collapsed, digests and image names shortened, an image named
 * again later written as "…", then the middle cut to `max`.
 */
export function shortenCause(text: string, max = 240): string {
  const seen = new Set<string>();
  const line = text
    .replace(/\s+/g, ' ')
    .trim()
    .replace(DIGEST_RE, '$1…')
    .replace(IMAGE_TOKEN_RE, (token) => {
      if (token.length < 30) return token;
      // docker.io/library/x and x name the same image: compare by the last path component and digest.
      const id = token.replace(/^.*\//, '');
      if (seen.has(id)) return '…';
      seen.add(id);
      return shortenImage(token);
    });
  return cutMiddle(line, max);
}
