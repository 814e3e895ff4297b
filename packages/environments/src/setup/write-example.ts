/** `pnpm build` runs this: workflows/aws/ = the templates generated from the example file (CI fails on drift). */
import { exampleFiles, EXAMPLE_DIR } from './example';
import { writeFiles } from './files';

writeFiles(EXAMPLE_DIR, exampleFiles());
