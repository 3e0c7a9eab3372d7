/**
 * scripts/image/write-sd.sh refuses before writing anything: each refusal exits 2 with a message naming the
 * reason. No case here passes --yes, and stdin is not a terminal, so even a refusal that failed to fire would stop
 * at the confirmation ("not a terminal") instead of writing.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const SCRIPT = path.resolve(import.meta.dirname, '../../../scripts/image/write-sd.sh');
const dir = mkdtempSync(path.join(tmpdir(), 'write-sd-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const image = path.join(dir, 'os.img');
writeFileSync(image, Buffer.alloc(4096, 1));
const notACard = path.join(dir, 'card');
writeFileSync(notACard, '');

function writeSd(...args: string[]): { code: number | null; stderr: string } {
  const r = spawnSync('bash', [SCRIPT, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return { code: r.status, stderr: r.stderr };
}

/** The block device holding /, when there is one (not in every container). */
function rootDevice(): string | undefined {
  const r = spawnSync('findmnt', ['-no', 'SOURCE', '/'], { encoding: 'utf8' });
  const source = r.status === 0 ? r.stdout.trim() : '';
  return source.startsWith('/dev/') ? source : undefined;
}

describe('write-sd.sh refuses', () => {
  it.each([
    ['a regular file as the device', [image, notACard], /not a block device/],
    ['a character device (/dev/null)', [image, '/dev/null'], /\/dev\/null: not a block device/],
    ['a device that does not exist', [image, path.join(dir, 'sdz')], /no such device/],
    ['an image that does not exist', [path.join(dir, 'none.img'), '/dev/null'], /none\.img: no such file/],
    ['an image that is not .img or .img.xz', [notACard, '/dev/null'], /expected a \.img or \.img\.xz/],
    ['a missing device argument', [image], /need IMAGE and DEVICE/],
    ['an unknown option', ['--fast', image, '/dev/null'], /unknown option --fast/],
  ] as const)('%s (exit 2)', (_name, args, message) => {
    const r = writeSd(...args);
    expect(r.stderr).toMatch(message);
    expect(r.code).toBe(2);
  });

  const root = rootDevice();
  it.skipIf(root === undefined)('the disk that holds / (exit 2)', () => {
    const r = writeSd(image, root ?? '');
    expect(r.stderr).toMatch(/holds the root filesystem|is a part|is mounted/);
    expect(r.code).toBe(2);
  });

  it('prints its usage with --help (exit 0)', () => {
    const r = spawnSync('bash', [SCRIPT, '--help'], { encoding: 'utf8' });
    expect(r.stdout).toMatch(/usage: scripts\/image\/write-sd\.sh/);
    expect(r.status).toBe(0);
  });
});
