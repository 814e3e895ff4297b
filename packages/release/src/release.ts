import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError, UserError, type ActionIO, type Outputs } from '@deploy-actions/action-kit';
import { releaseAssets } from './assets';
import { changelogSection } from './changelog';
import type { Git } from './git';
import type { ReleasesApi } from './github';
import { checkPinned, checkSelfReferences, pinWorkflows, workflowFiles } from './pin';
import { resolveRef } from './uses';
import { movesForward, planVersion, releaseVersions } from './version';

export interface ReleaseInputs {
  version: string;
  /** owner/name of this repository: the references the release commit pins. */
  repository: string;
  /** The working tree (a checkout of main, bundles rebuilt). */
  root: string;
  changelog: string;
  workflowsDir: string;
  /**
   * Where the repository runs. `github.com` (default): the workflows reach this repository by
   * `$/<path>`, which GitHub resolves to the commit that runs, so the tag names main's commit
   * itself. `ghes` (GitHub Enterprise Server, which has no `$/`): a release commit on top of main
   * rewrites each `$/<path>` to `<repository>/<path>@vX.Y.Z`.
   */
  target?: 'github.com' | 'ghes';
  /**
   * Only the checks of the version, the changelog and the tags (no tree check, no side
   * effect): the workflow runs them before CI so that a wrong version fails in a minute.
   */
  checkOnly?: boolean;
}

export interface ReleaseDeps {
  git: Git;
  releases: ReleasesApi;
  io: ActionIO;
}

/**
 * Cuts a release of the checked-out commit: checks the version, the changelog and the tags
 * (where `checkOnly` stops), then the tree; tags HEAD itself (github.com: internal references
 * are `$/`), or on GitHub Enterprise Server writes the release commit (internal references
 * pinned to the new tag) on top of HEAD and tags that; pushes
 * the tag and moves the major tag in one atomic push; publishes a GitHub release with the
 * changelog section as notes and the bundles' checksums and package lists attached. A run that
 * failed after the push is resumed by running it again with the same version.
 */
export async function run(inputs: ReleaseInputs, { git, releases, io }: ReleaseDeps): Promise<Outputs> {
  const refs = await git.remoteRefs();
  const tags = [...refs.keys()].filter((r) => r.startsWith('refs/tags/') && !r.endsWith('^{}')).map((r) => r.slice('refs/tags/'.length));
  const requested = `v${inputs.version.trim()}`;
  const pushedCommit = refs.has(`refs/tags/${requested}`) ? resolveRef(refs, requested) : undefined;
  if (pushedCommit && (await releases.byTag(requested))?.draft === false) {
    throw new InputError('version', `is already released (${requested} has a published release)`, inputs.version);
  }
  const plan = planVersion(inputs.version, pushedCommit ? tags.filter((t) => t !== requested) : tags);
  const notes = changelogSection(readFileSync(join(inputs.root, inputs.changelog), 'utf8'), plan.version, inputs.changelog);

  // The major tag moves only forward: from the release it names now to this one.
  const majorRaw = plan.prerelease ? undefined : refs.get(`refs/tags/${plan.majorTag}`);
  const majorCommit = majorRaw && resolveRef(refs, plan.majorTag);
  const majorRelease = majorCommit
    ? releaseVersions(tags).find((v) => resolveRef(refs, `v${v}`) === majorCommit && v !== plan.version)
    : undefined;
  if (majorCommit && !majorRelease && majorCommit !== pushedCommit) {
    throw new UserError(`${plan.majorTag} points at ${majorCommit.slice(0, 12)}, which no release tag names: move it back to a release by hand first`);
  }
  if (!movesForward(majorRelease, plan.version)) {
    throw new UserError(`${plan.majorTag} names ${majorRelease}, newer than ${plan.version}: it never moves backwards`);
  }
  if (inputs.checkOnly) {
    io.info(`${plan.tag} can be released${pushedCommit ? ' (resuming: the tag exists)' : ''}: changelog section found, ${plan.prerelease ? `${plan.majorTag} stays` : `${plan.majorTag} moves from ${majorRelease ?? '(new)'}`}`);
    return { tag: plan.tag, commit: '', 'major-tag': plan.prerelease ? '' : plan.majorTag, 'release-url': '' };
  }

  const drift = await git.status();
  if (drift) {
    throw new UserError(`the working tree differs from the commit after the build (stale bundles or uncommitted changes; run pnpm build and commit): ${drift.split('\n').slice(0, 5).join(', ')}`);
  }

  const head = await git.head();
  let commit: string;
  if (pushedCommit) {
    if (pushedCommit !== head && (await git.parentOfTag(plan.tag)) !== head) {
      throw new UserError(`${plan.tag} already exists for ${pushedCommit.slice(0, 12)}, which is not a release of the checked-out commit: delete the tag or release the next version`);
    }
    commit = pushedCommit;
    io.info(`Resuming ${plan.tag}: the tag exists for ${commit}`);
  } else {
    const files = workflowFiles(inputs.root, inputs.workflowsDir);
    if ((inputs.target ?? 'github.com') === 'github.com') {
      checkSelfReferences(inputs.root, files, inputs.repository);
      commit = head;
      io.info(`Release ${plan.tag} is ${head} itself: the workflows reach ${inputs.repository} by $/ (the commit that runs)`);
    } else {
      const changed = pinWorkflows(inputs.root, files, inputs.repository, plan.tag);
      checkPinned(inputs.root, files, inputs.repository, plan.tag);
      commit = changed.length
        ? await git.commit(`Release ${plan.tag}\n\nReferences to ${inputs.repository} in ${changed.join(', ')} name ${plan.tag} (GitHub Enterprise Server has no $/).`)
        : head;
      io.info(`Release commit ${commit} (${changed.length} workflow file(s) pinned to ${plan.tag}) on top of ${head}`);
    }
    await git.tag(plan.tag, commit, `deploy-actions ${plan.tag}`);
  }

  const updates = pushedCommit ? [] : [{ ref: `refs/tags/${plan.tag}`, source: `refs/tags/${plan.tag}`, expect: '' }];
  const moveMajor = !plan.prerelease && majorCommit !== commit;
  if (moveMajor) updates.push({ ref: `refs/tags/${plan.majorTag}`, source: commit, expect: majorRaw ?? '' });
  if (updates.length) await git.push(updates);
  io.info(`Pushed ${updates.map((u) => u.ref.slice('refs/tags/'.length)).join(' and ') || 'nothing (already pushed)'}`);

  let release = (await releases.byTag(plan.tag)) ?? (await releases.createDraft({ tag: plan.tag, name: plan.tag, body: notes, prerelease: plan.prerelease }));
  for (const asset of releaseAssets(inputs.root)) {
    if (!release.assets.includes(asset.name)) await releases.uploadAsset(release, asset.name, asset.data, asset.contentType);
  }
  release = await releases.publish(release, plan.latest);

  await io.summary(
    [
      `### deploy-actions ${plan.tag}`,
      '',
      commit === head ? `- release commit: \`${commit}\` (main's commit: references by $/)` : `- release commit: \`${commit}\` (on top of \`${head}\`, references pinned to ${plan.tag})`,
      `- ${plan.majorTag}: ${plan.prerelease ? 'not moved (prerelease)' : moveMajor ? `moved from ${majorRelease ?? '(new)'} to ${plan.version}` : `already at ${plan.version}`}`,
      `- release: ${release.htmlUrl}${plan.latest ? ' (latest)' : ''}`,
      '',
    ].join('\n'),
  );
  return { tag: plan.tag, commit, 'major-tag': plan.prerelease ? '' : plan.majorTag, 'release-url': release.htmlUrl };
}
