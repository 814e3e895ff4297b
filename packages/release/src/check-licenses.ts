// CI: every package bundled in actions/*/dist/index.js (ncc's licenses.txt next to it) must have
// a license of scripts/license-allowlist.json. One line per offending package; exit 1.
// Usage: tsx src/check-licenses.ts <repository root>
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundledActions } from './assets';
import { disallowed, parseNccLicenses } from './licenses';

const root = process.argv[2] ?? process.cwd();
const { allowed } = JSON.parse(readFileSync(join(root, 'scripts/license-allowlist.json'), 'utf8')) as { allowed: string[] };
let failed = false;
for (const action of bundledActions(root)) {
  const entries = parseNccLicenses(readFileSync(join(root, 'actions', action, 'dist', 'licenses.txt'), 'utf8'));
  const bad = disallowed(entries, allowed);
  if (entries.length === 0) console.log(`[licenses] actions/${action}/dist/licenses.txt lists no package: rebuild with ncc --license licenses.txt`);
  for (const e of bad) {
    console.log(`[licenses] actions/${action}: ${JSON.stringify(e.name)} is licensed ${JSON.stringify(e.license)}, not in scripts/license-allowlist.json`);
  }
  if (entries.length > 0 && bad.length === 0) console.log(`[licenses] actions/${action}: ${entries.length} bundled packages, all licenses allowed`);
  failed ||= entries.length === 0 || bad.length > 0;
}
process.exit(failed ? 1 : 0);
