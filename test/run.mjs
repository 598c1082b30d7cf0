#!/usr/bin/env node
// Runs every test file under test/ with node's test runner through tsx (TypeScript without a
// build step). Usage: node test/run.mjs [substring-filter ...]
// tsx does not type-check, so the tests' strict type check (tsconfig.test.json) runs first and a
// type error fails the run before any test starts (20-30 s cold, as in CI; ~5 s warm; on 2 cores).
import { createRequire } from 'node:module';
import { readdirSync, statSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = join(fileURLToPath(new URL('.', import.meta.url)), '..');
const files = [];
(function walk(dir) {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith('.test.ts')) files.push(relative(root, p));
  }
})(join(root, 'test'));
const filters = process.argv.slice(2);
const chosen = filters.length ? files.filter((f) => filters.some((x) => f.includes(x))) : files;
if (chosen.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const typeCheck = () => spawnSync(process.execPath, [tsc, '-p', 'tsconfig.test.json'], {
  cwd: root,
  encoding: 'utf8',
  timeout: 10 * 60 * 1000,
  killSignal: 'SIGKILL',
});
let check = typeCheck();
if (check.status !== 0 && /Debug Failure/.test(`${check.stdout}${check.stderr}`)) {
  // tsc's incremental state can crash tsc itself ("Debug Failure. No error for last overload
  // signature" seen after an edit): check again from scratch
  console.error('tsc crashed on its incremental state; checking again without it');
  rmSync(join(root, 'node_modules', '.cache', 'amber', 'tsconfig.test.tsbuildinfo'), { force: true });
  check = typeCheck();
}
process.stdout.write(check.stdout ?? '');
process.stderr.write(check.stderr ?? '');
if (check.status !== 0) {
  const why = check.error ? check.error.message : check.signal ? `killed by ${check.signal}` : `exit status ${check.status}`;
  console.error(`type check of the tests failed (tsc -p tsconfig.test.json, ${why}): fix the errors above; no test was run`);
  process.exit(1);
}
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-force-exit', '--test-timeout=180000', ...chosen], {
  cwd: root,
  stdio: 'inherit',
  // a watchdog for the whole run, well inside CI's 90 minutes
  timeout: 45 * 60 * 1000,
  killSignal: 'SIGKILL',
});
if (r.error) console.error(`test run stopped: ${r.error.message}`);
process.exit(r.status ?? 1);
