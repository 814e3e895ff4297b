/**
 * How a service's chart is rendered, shared by the two actions that render it: helm-deploy-eks
 * (the deploy) and promote-gate's release card (the same render at two commits, to diff them).
 * Both must layer the same values files and set the image under the same keys, or the card shows
 * another manifest than the one deployed. Pure: command lines, values and their inputs; no process, no I/O.
 */
export * from './helm-args';
export * from './image-keys';
export * from './image-layout';
