/**
 * The test cluster itself: started by `node scripts/ceph/cluster.ts`, it serves S3 with the printed keys; when that
 * process is SIGKILLed, every daemon dies with it (pdeathsig) and the next start removes its directory.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { until } from '../../harness/broker.ts';
import { CEPH_MISSING, CEPH_SKIP, startCeph } from '../../harness/ceph.ts';

const REPO = path.resolve(import.meta.dirname, '../../..');

/** Pids of live (not zombie) processes whose command line mentions `text`. */
function processesWith(text: string): number[] {
  return readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .filter((pid) => {
      try {
        const state = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0];
        return state !== 'Z' && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(text);
      } catch {
        return false;
      }
    })
    .map(Number);
}

describe.skipIf(CEPH_MISSING.length > 0)(`the test cluster ${CEPH_MISSING.length > 0 ? CEPH_SKIP : ''}`, () => {
  it('serves S3 with the keys it prints, and leaves nothing running when its process is SIGKILLed', async () => {
    const child = spawn(process.execPath, [path.join(REPO, 'scripts/ceph/cluster.ts')], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    await until(() => out.includes('running;'), 'the cluster to start', 60_000);
    const info = JSON.parse(out.slice(0, out.indexOf('running;'))) as {
      endpoint: string;
      accessKeyId: string;
      secretAccessKey: string;
      dir: string;
    };
    const s3 = new S3Client({
      endpoint: info.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: info.accessKeyId, secretAccessKey: info.secretAccessKey },
      maxAttempts: 1,
    });
    try {
      const owner = await s3.send(new ListBucketsCommand({}));
      expect(owner.Owner?.ID).toBe('admin');
    } finally {
      s3.destroy();
    }
    const daemons = processesWith(info.dir);
    expect(daemons).toHaveLength(3);

    child.kill('SIGKILL');
    await until(() => processesWith(info.dir).length === 0, 'the daemons to die with their parent', 10_000);
    expect(existsSync(info.dir)).toBe(true);
    const next = await startCeph();
    try {
      expect(existsSync(info.dir)).toBe(false);
    } finally {
      await next.stop();
    }
    expect(existsSync(next.dir)).toBe(false);
  }, 120_000);
});
