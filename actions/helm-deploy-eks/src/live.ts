/**
 * The live check: what the release's pods actually run (the digest each container's image
 * resolved to, from status.containerStatuses[].imageID) against the pinned digest. Pure.
 */
import { normalizeImage } from '@deploy-actions/chart';
import type { ImageRef } from './inputs';
import { hookOf, type K8sObject } from './manifests';
import type { ContainerStatus } from './pods';
import { releasePods, type KubeItem, type Workload } from './release-pods';
import { shortenImage } from './shorten';

export interface RunningImage {
  pod: string;
  container: string;
  /** The image as the pod spec names it. */
  image: string;
  /** The resolved digest, or '' when the runtime did not report one. */
  digest: string;
}

const DIGEST_IN = /sha256:[a-f0-9]{64}/;

/** Containers of the release's workload pods (not hooks, not terminating, not finished) whose image the node resolved. */
export function runningImages(items: readonly KubeItem[], workloads: readonly Workload[], selector: string): RunningImage[] {
  const out: RunningImage[] = [];
  for (const { pod } of releasePods(items, workloads.filter((w) => !w.hook), selector)) {
    if (pod.metadata.deletionTimestamp || ['Succeeded', 'Failed'].includes(pod.status?.phase ?? '')) continue;
    const statuses: ContainerStatus[] = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
    for (const s of statuses) {
      // An imageID of "sha256:<id>" alone is the local image id, not the registry digest.
      const id = s.imageID ?? '';
      const digest = id.includes('@') ? (DIGEST_IN.exec(id.slice(id.indexOf('@')))?.[0] ?? '') : '';
      // A container not started yet has no image resolved: nothing to say about it.
      if (id !== '') out.push({ pod: pod.metadata.name, container: s.name, image: s.image ?? '', digest });
    }
  }
  return out;
}

/**
 * Whether the rendered chart keeps pods running after the rollout: a Deployment or StatefulSet
 * not scaled to 0, a DaemonSet or a bare Pod, outside hooks. Only then is finding no running
 * pod a failure rather than a chart of CronJobs and Jobs.
 */
export function expectsRunningPods(objects: readonly K8sObject[]): boolean {
  return objects.some((o) => {
    if (hookOf(o)) return false;
    if (o.kind === 'Deployment' || o.kind === 'StatefulSet') return o.spec?.replicas === undefined || Number(o.spec.replicas) > 0;
    return o.kind === 'DaemonSet' || o.kind === 'Pod';
  });
}

function repositoryOf(image: string): string {
  const noDigest = image.split('@')[0]!;
  const slash = noDigest.lastIndexOf('/');
  const colon = noDigest.lastIndexOf(':');
  return colon > slash ? noDigest.slice(0, colon) : noDigest;
}

export type LiveVerdict = { ok: true; running: string[] } | { ok: false; running: string[]; line: string };

/**
 * Fails when a container of the pinned repository runs another digest, or when no container of
 * the release runs the pinned digest at all. `running` lists each distinct image@digest once.
 */
export function judgeLive(images: readonly RunningImage[], pinned: ImageRef): LiveVerdict {
  const running = [...new Set(images.map((i) => (i.digest ? `${repositoryOf(i.image)}@${i.digest}` : `${i.image} (no digest reported)`)))];
  // The same repository however it is spelled (busybox, docker.io/library/busybox).
  const sameRepository = (image: string) => {
    const a = normalizeImage(repositoryOf(image));
    const b = normalizeImage(pinned.repository);
    return a && b ? a.registry === b.registry && a.path === b.path : repositoryOf(image) === pinned.repository;
  };
  const wrong = images.filter((i) => i.digest && i.digest !== pinned.digest && sameRepository(i.image));
  const right = images.filter((i) => i.digest === pinned.digest);
  if (wrong.length === 0 && right.length > 0) return { ok: true, running };
  const shown = (wrong.length > 0 ? wrong : images).slice(0, 3).map((i) => `${i.pod}/${i.container} runs ${shortenImage(`${repositoryOf(i.image)}@${i.digest || '?'}`)}`);
  const more = (wrong.length > 0 ? wrong : images).length > 3 ? ` and ${(wrong.length > 0 ? wrong : images).length - 3} more` : '';
  const what = images.length === 0 ? 'no running pod of the release was found' : `${shown.join(', ')}${more}`;
  return { ok: false, running, line: `The release's pods do not run the pinned digest ${pinned.digest.slice(0, 19)}…: ${what}` };
}
