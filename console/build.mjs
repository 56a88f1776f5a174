// Builds the console into dist/ (committed, embedded in cksd with include_bytes!), and records the
// hash of its sources in dist/SOURCE_HASH so that a stale dist/ fails cksd's tests.
// `node build.mjs --check` only compares the hash.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('.', import.meta.url));
const dist = join(root, 'dist');

// The same definition as `console::source_hash` in crates/cksd/src/console.rs: SHA-256 over every
// source file, sorted by path, each as "<path>\0<bytes>\0".
function sourceFiles() {
  const files = ['build.mjs', 'package-lock.json'];
  const walk = (dir) => {
    for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(path);
      else files.push(path);
    }
  };
  walk('src');
  return files.sort();
}

function sourceHash() {
  const hash = createHash('sha256');
  for (const file of sourceFiles()) {
    hash.update(file);
    hash.update('\0');
    hash.update(readFileSync(join(root, file)));
    hash.update('\0');
  }
  return hash.digest('hex');
}

const hash = sourceHash();
if (process.argv.includes('--check')) {
  const recorded = readFileSync(join(dist, 'SOURCE_HASH'), 'utf8').trim();
  if (recorded !== hash) {
    console.error(`console/dist is stale (built from ${recorded}, sources are ${hash}): run scripts/build-console.sh`);
    process.exit(1);
  }
  console.log('console/dist is up to date');
  process.exit(0);
}

const esbuild = await import('esbuild');
mkdirSync(dist, { recursive: true });
await esbuild.build({
  entryPoints: { console: join(root, 'src/main.tsx') },
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['es2022'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  outdir: dist,
  legalComments: 'none',
  logLevel: 'warning',
});
await esbuild.build({
  entryPoints: { console: join(root, 'src/style.css') },
  bundle: true,
  minify: true,
  outdir: dist,
  logLevel: 'warning',
});
// Asset URLs carry the source hash, so browsers may cache them for good.
const version = hash.slice(0, 12);
const index = readFileSync(join(root, 'src/index.html'), 'utf8').replaceAll('{{VERSION}}', version);
writeFileSync(join(dist, 'index.html'), index);
writeFileSync(join(dist, 'SOURCE_HASH'), `${hash}\n`);
for (const file of readdirSync(dist)) {
  console.log(`${relative(root, join(dist, file))}\t${readFileSync(join(dist, file)).length} bytes`);
}
