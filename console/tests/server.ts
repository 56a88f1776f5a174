// Global setup: starts a real cksd (realistic simulator timings, so the tests can watch a cluster
// go through its steps) on a free loopback port, logs where it listens, and stops it at the end.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = fileURLToPath(new URL('.', import.meta.url));

export default async function globalSetup() {
  const binary = process.env.CKSD_BIN ?? resolve(HERE, '../../target/debug/cksd');
  const dataDir = mkdtempSync(join(tmpdir(), 'cks-console-e2e-'));
  // 127.252.0.0/16 is clear of the Rust API tests' reserved ranges (127.20-250.x).
  const publicRange = `127.252.${process.pid % 250}.0/24`;
  const server = spawn(
    binary,
    ['--listen', '127.0.0.1:0', '--data-dir', join(dataDir, 'data'), '--simulator-public-range', publicRange],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  const url = await new Promise<string>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`cksd did not start in 30 s:\n${log}`)), 30_000);
    const onData = (chunk: Buffer) => {
      log += chunk.toString();
      const m = /cksd listening on (http:\/\/[^\s/]+)\//.exec(log);
      if (m) {
        clearTimeout(timer);
        ok(m[1]);
      }
    };
    server.stdout.on('data', onData);
    server.stderr.on('data', onData);
    server.on('exit', (code) => fail(new Error(`cksd exited with ${code}:\n${log}`)));
  });
  const admin = JSON.parse(readFileSync(join(dataDir, 'data', 'root-admin.json'), 'utf8'));
  process.env.CKS_CONSOLE_URL = url;
  process.env.CKS_ADMIN_PASSWORD = admin.password;
  console.log(`cksd for the console tests: ${url} (data in ${dataDir})`);
  return async () => {
    server.kill('SIGTERM');
    await new Promise((done) => {
      server.once('exit', done);
      setTimeout(done, 5000);
    });
    rmSync(dataDir, { recursive: true, force: true });
  };
}
