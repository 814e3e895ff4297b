/**
 * Releases endpoints of the GitHub stand-in: create (draft or published), list, get by tag,
 * latest, update (publish, make_latest) and asset uploads at the release's `upload_url`.
 * With `immutable` (GitHub's immutable releases setting), a published release takes no more
 * assets, which is why a release uploads its assets to a draft and publishes it last.
 * Not modelled: git tags (publishing does not create a missing tag), generated notes, deletes.
 */
export interface StoredAsset {
  id: number;
  name: string;
  contentType: string;
  data: Buffer;
}
export interface StoredRelease {
  repo: string;
  id: number;
  tagName: string;
  targetCommitish: string;
  name: string;
  body: string;
  draft: boolean;
  prerelease: boolean;
  createdAt: string;
  publishedAt: string | null;
  assets: StoredAsset[];
}

export interface ReleasesContext {
  base: string;
  releases: StoredRelease[];
  /** repository -> id of the release marked latest. */
  latest: Map<string, number>;
  immutable: boolean;
  id(): number;
  now(): string;
  /** Throws GitHub's 403 unless the token has contents at `level`. */
  needContents(level: 'read' | 'write'): void;
  error(status: number, message: string, extra?: Record<string, unknown>): Error;
}

export interface RouteOut {
  status: number;
  body?: unknown;
}

/** Uploads carry the asset's bytes, not JSON. */
export const ASSET_UPLOAD = /^\/repos\/[^/]+\/[^/]+\/releases\/\d+\/assets$/;

export function releasesRoute(
  ctx: ReleasesContext,
  repo: string,
  method: string,
  rest: string,
  query: Record<string, string>,
  body: unknown,
  contentType: string,
): RouteOut | undefined {
  const json = (r: StoredRelease) => {
    const url = `${ctx.base}/repos/${repo}/releases/${r.id}`;
    return {
      id: r.id,
      url,
      html_url: `https://github.com/${repo}/releases/${r.draft ? `untagged-${r.id}` : `tag/${r.tagName}`}`,
      assets_url: `${url}/assets`,
      upload_url: `${url}/assets{?name,label}`,
      tag_name: r.tagName,
      target_commitish: r.targetCommitish,
      name: r.name,
      body: r.body,
      draft: r.draft,
      prerelease: r.prerelease,
      immutable: ctx.immutable && !r.draft,
      created_at: r.createdAt,
      published_at: r.publishedAt,
      author: { login: 'github-actions[bot]', id: 41898282, type: 'Bot' },
      assets: r.assets.map((a) => ({
        id: a.id,
        name: a.name,
        label: '',
        content_type: a.contentType,
        size: a.data.length,
        state: 'uploaded',
        url: `${ctx.base}/repos/${repo}/releases/assets/${a.id}`,
        browser_download_url: `https://github.com/${repo}/releases/download/${r.tagName}/${a.name}`,
      })),
    };
  };
  const mine = ctx.releases.filter((r) => r.repo === repo);
  const byId = (id: string) => {
    const r = mine.find((x) => x.id === Number(id));
    if (!r) throw ctx.error(404, 'Not Found');
    return r;
  };
  const b = (body ?? {}) as Record<string, any>;
  const applyLatest = (r: StoredRelease, makeLatest: unknown) => {
    if (r.draft || r.prerelease || makeLatest === 'false') return;
    ctx.latest.set(repo, r.id);
  };
  let m: RegExpExecArray | null;

  if (rest === '/releases' && method === 'GET') {
    ctx.needContents('read');
    const perPage = Math.min(100, Number(query.per_page ?? 30) || 30);
    const pageNo = Math.max(1, Number(query.page ?? 1) || 1);
    const list = [...mine].sort((a, b2) => b2.id - a.id).slice((pageNo - 1) * perPage, pageNo * perPage);
    return { status: 200, body: list.map(json) };
  }
  if (rest === '/releases' && method === 'POST') {
    ctx.needContents('write');
    const tag = typeof b.tag_name === 'string' ? b.tag_name : '';
    if (!tag) throw ctx.error(422, 'Validation Failed', { errors: [{ resource: 'Release', field: 'tag_name', code: 'missing_field' }] });
    if (mine.some((r) => r.tagName === tag)) {
      throw ctx.error(422, 'Validation Failed', { errors: [{ resource: 'Release', field: 'tag_name', code: 'already_exists' }] });
    }
    const draft = b.draft === true;
    const r: StoredRelease = {
      repo,
      id: ctx.id(),
      tagName: tag,
      targetCommitish: typeof b.target_commitish === 'string' ? b.target_commitish : 'main',
      name: typeof b.name === 'string' ? b.name : tag,
      body: typeof b.body === 'string' ? b.body : '',
      draft,
      prerelease: b.prerelease === true,
      createdAt: ctx.now(),
      publishedAt: draft ? null : ctx.now(),
      assets: [],
    };
    ctx.releases.push(r);
    applyLatest(r, b.make_latest);
    return { status: 201, body: json(r) };
  }
  if (rest === '/releases/latest' && method === 'GET') {
    ctx.needContents('read');
    const id = ctx.latest.get(repo);
    if (id === undefined) throw ctx.error(404, 'Not Found');
    return { status: 200, body: json(byId(String(id))) };
  }
  if ((m = /^\/releases\/tags\/(.+)$/.exec(rest)) && method === 'GET') {
    ctx.needContents('read');
    const r = mine.find((x) => x.tagName === decodeURIComponent(m![1]!) && !x.draft);
    if (!r) throw ctx.error(404, 'Not Found');
    return { status: 200, body: json(r) };
  }
  if ((m = /^\/releases\/(\d+)$/.exec(rest))) {
    const r = byId(m[1]!);
    if (method === 'GET') {
      ctx.needContents('read');
      return { status: 200, body: json(r) };
    }
    if (method === 'PATCH') {
      ctx.needContents('write');
      for (const k of ['name', 'body'] as const) if (typeof b[k] === 'string') r[k] = b[k];
      if (typeof b.prerelease === 'boolean') r.prerelease = b.prerelease;
      if (b.draft === false && r.draft) {
        r.draft = false;
        r.publishedAt = ctx.now();
      }
      applyLatest(r, b.make_latest);
      return { status: 200, body: json(r) };
    }
  }
  if ((m = /^\/releases\/(\d+)\/assets$/.exec(rest)) && method === 'POST') {
    ctx.needContents('write');
    const r = byId(m[1]!);
    const name = query.name ?? '';
    if (!name) throw ctx.error(422, 'Validation Failed', { errors: [{ resource: 'ReleaseAsset', field: 'name', code: 'missing' }] });
    if (ctx.immutable && !r.draft) throw ctx.error(422, 'Cannot upload assets to an immutable release.');
    if (r.assets.some((a) => a.name === name)) {
      throw ctx.error(422, 'Validation Failed', { errors: [{ resource: 'ReleaseAsset', code: 'already_exists', field: 'name' }] });
    }
    const data = Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body ?? ''));
    const asset: StoredAsset = { id: ctx.id(), name, contentType: contentType || 'application/octet-stream', data };
    r.assets.push(asset);
    return { status: 201, body: json(r).assets.find((a) => a.id === asset.id) };
  }
  return undefined;
}
