import { getOctokit } from '@actions/github';
import { DEADLINES, fetchWithDeadline } from '@deploy-actions/action-kit';

export interface Release {
  id: number;
  tagName: string;
  draft: boolean;
  htmlUrl: string;
  uploadUrl: string;
  assets: string[];
}

/** The GitHub releases endpoints a release uses. */
export interface ReleasesApi {
  byTag(tag: string): Promise<Release | undefined>;
  createDraft(r: { tag: string; name: string; body: string; prerelease: boolean }): Promise<Release>;
  uploadAsset(release: Release, name: string, data: Buffer, contentType: string): Promise<void>;
  publish(release: Release, latest: boolean): Promise<Release>;
}

type Raw = { id: number; tag_name: string; draft: boolean; html_url: string; upload_url: string; assets?: Array<{ name: string }> };
const fromRaw = (r: Raw): Release => ({
  id: r.id,
  tagName: r.tag_name,
  draft: r.draft,
  htmlUrl: r.html_url,
  uploadUrl: r.upload_url,
  assets: (r.assets ?? []).map((a) => a.name),
});

/** The releases API through @actions/github's Octokit (GITHUB_API_URL for GHES and tests). */
export function releasesApi(token: string, repository: string, apiUrl: string): ReleasesApi {
  const octokit = getOctokit(token, { baseUrl: apiUrl, request: { fetch: fetchWithDeadline(DEADLINES.downloadMs) } });
  const [owner, repo] = repository.split('/') as [string, string];
  return {
    // Listed rather than GET .../releases/tags/{tag}: that one does not return drafts.
    byTag: async (tag) => {
      const list = await octokit.paginate(octokit.rest.repos.listReleases, { owner, repo, per_page: 100 });
      const found = (list as Raw[]).find((r) => r.tag_name === tag);
      return found && fromRaw(found);
    },
    createDraft: async ({ tag, name, body, prerelease }) =>
      fromRaw((await octokit.rest.repos.createRelease({ owner, repo, tag_name: tag, name, body, draft: true, prerelease })).data as Raw),
    uploadAsset: async (release, name, data, contentType) => {
      await octokit.request({
        method: 'POST',
        url: release.uploadUrl,
        name,
        data,
        headers: { 'content-type': contentType, 'content-length': data.length },
      });
    },
    publish: async (release, latest) =>
      fromRaw(
        (await octokit.rest.repos.updateRelease({ owner, repo, release_id: release.id, draft: false, make_latest: latest ? 'true' : 'false' }))
          .data as Raw,
      ),
  };
}
