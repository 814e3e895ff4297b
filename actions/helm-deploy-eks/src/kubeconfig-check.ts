/**
 * The given kubeconfig, checked with the same parse the action's API client connects with
 * (packages/kube): its own chunk, loaded by readInputs only when a kubeconfig is given, since
 * the parser brings YAML.
 */
import { InputError } from '@deploy-actions/action-kit';
import { KubeconfigError, parseKubeconfig } from '@deploy-actions/kube';

/** The API server `path` names for `context` (the current one when ''), or the input's one-line refusal. */
export function kubeconfigServer(path: string, context: string, read: (path: string) => string | undefined, given: string): string {
  const text = read(path);
  let problem = text === undefined ? 'cannot be read' : text.trim() === '' ? 'is empty' : '';
  if (!problem) {
    try {
      const readOrThrow = (p: string) => {
        const t = read(p);
        if (t === undefined) throw new Error(`cannot read ${p}`);
        return t;
      };
      return parseKubeconfig(text!, { context, dir: path.slice(0, path.lastIndexOf('/')) || '/', readFile: readOrThrow }).server;
    } catch (err) {
      if (!(err instanceof KubeconfigError)) throw err;
      problem = err.message;
    }
  }
  throw new InputError('kubeconfig', `must be a kubeconfig this action can use (server, trust, credentials); this file ${problem}`, given);
}
