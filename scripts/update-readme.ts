// Rewrites the generated sections of README.md (npm run readme).
import { readFileSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { updatedReadme } from './readme-sections.js';

const path = join(dirname(fileURLToPath(import.meta.url)), '..', 'README.md');
writeFileSync(path, updatedReadme(readFileSync(path, 'utf8')));
console.log('README.md updated');
