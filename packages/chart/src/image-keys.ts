/**
 * The image-key inputs (`image-registry-key`, `image-repository-key`, `image-digest-key`,
 * `image-tag-key`, `image-reference-key`), read the same way by helm-deploy-eks and by the release
 * card, so the card renders the chart with the image where the deploy will put it. No reference
 * parsing here (image-layout.ts): the actions' entries read inputs only.
 */
import { InputError, type Inputs as Raw } from '@deploy-actions/action-kit';

/** Values keys the pinned image goes to; '' means the key is not set. */
export interface ImageKeys {
  /** Registry host alone (the repository key then takes the path alone). */
  registryKey: string;
  /** Repository path, or host + path when there is no registry key. */
  repositoryKey: string;
  digestKey: string;
  /** Set to the image's tag, or cleared ('') when the image has none. */
  tagKey: string;
  /** The whole reference, repository[:tag]@digest, in one key. */
  referenceKey: string;
}

export const NO_KEYS: ImageKeys = { registryKey: '', repositoryKey: '', digestKey: '', tagKey: '', referenceKey: '' };

/** The default layout: image.repository (host and path) + image.digest. */
export const DEFAULT_KEYS: ImageKeys = { ...NO_KEYS, repositoryKey: 'image.repository', digestKey: 'image.digest' };

/** Every values key the image goes to (for checks that another input does not set them too). */
export function imageKeyList(keys: ImageKeys): string[] {
  return [keys.registryKey, keys.repositoryKey, keys.digestKey, keys.tagKey, keys.referenceKey].filter((k) => k !== '');
}

/** Each key's input name, the whole-reference key first. */
export const KEY_INPUTS: Array<[keyof ImageKeys, string]> = [
  ['referenceKey', 'image-reference-key'],
  ['registryKey', 'image-registry-key'],
  ['repositoryKey', 'image-repository-key'],
  ['digestKey', 'image-digest-key'],
  ['tagKey', 'image-tag-key'],
];

/** `image-registry-key: image.registry, image-repository-key: image.repository, ...` (the keys set only). */
export function keysText(k: ImageKeys): string {
  return KEY_INPUTS.filter(([f]) => k[f] !== '').map(([f, input]) => `${input}: ${k[f]}`).join(', ');
}

export function sameKeys(a: ImageKeys, b: ImageKeys): boolean {
  return KEY_INPUTS.every(([f]) => a[f] === b[f]);
}

const VALUES_KEY_RE = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

/** A dotted values key input (`image.repository`); '' when optional and not given. */
export function valuesKey(i: Raw, name: string, fallback: string, optional = false): string {
  const v = i.string(name, fallback);
  if (optional && v === '') return '';
  if (!VALUES_KEY_RE.test(v)) throw new InputError(name, 'must be a dotted values key such as image.repository', v);
  return v;
}

/**
 * The image keys: a whole-reference key alone (with a tag key at most), else registry (optional),
 * repository and digest (defaults image.repository and image.digest) and tag (optional). Two
 * keys may not be the same or one inside the other (image and image.repository).
 */
export function readImageKeys(i: Raw): ImageKeys {
  const given = Object.fromEntries(KEY_INPUTS.map(([f, name]) => [f, valuesKey(i, name, '', true)])) as unknown as ImageKeys;
  if (given.referenceKey !== '') {
    for (const [f, name] of KEY_INPUTS.slice(1, 4)) {
      if (given[f] !== '') throw new InputError(name, `cannot be combined with image-reference-key (${given.referenceKey} takes the whole reference)`, given[f]);
    }
  }
  const keys: ImageKeys = given.referenceKey !== ''
    ? given
    : { ...given, repositoryKey: given.repositoryKey || DEFAULT_KEYS.repositoryKey, digestKey: given.digestKey || DEFAULT_KEYS.digestKey };
  const list = imageKeyList(keys);
  for (const [f, name] of KEY_INPUTS) {
    const other = list.find((k) => k !== keys[f] && (k.startsWith(`${keys[f]}.`) || keys[f].startsWith(`${k}.`)));
    const twice = list.filter((k) => k === keys[f]).length > 1;
    if (keys[f] !== '' && (other || twice)) throw new InputError(name, `must be a values key of its own (it overlaps ${other ?? keys[f]}, another image key)`, keys[f]);
  }
  return keys;
}
