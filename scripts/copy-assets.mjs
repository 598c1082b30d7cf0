// Copies the non-TypeScript files the server reads at run time into dist/ after tsc.
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
for (const f of ['src/commands/redis-commands.json']) {
  mkdirSync(dirname(join(root, 'dist', f)), { recursive: true });
  copyFileSync(join(root, f), join(root, 'dist', f));
}
