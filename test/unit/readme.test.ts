import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { updatedReadme } from '../../scripts/readme-sections.js';

test('README lists exactly the implemented commands and directives (run `npm run readme` after changing them)', () => {
  const doc = readFileSync(join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');
  assert.equal(doc, updatedReadme(doc));
});
