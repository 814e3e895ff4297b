// Node module-customization hook: @actions/workflow-parser ships ESM that imports its JSON schema
// without an import attribute (it expects a bundler). Node refuses that, so serve those JSON files
// as an ES module exporting the parsed object.
import { readFile } from 'node:fs/promises';

export async function load(url, context, nextLoad) {
  if (url.startsWith('file:') && url.endsWith('.json') && url.includes('/@actions/workflow-parser/')) {
    const text = await readFile(new URL(url), 'utf8');
    return { format: 'module', source: `export default ${text};`, shortCircuit: true };
  }
  return nextLoad(url, context);
}
