import { describe, expect, it } from 'vitest';
import { cephConf, daemonCommand, monmapCommand, userCreateCommand } from '../../../scripts/ceph/conf.ts';

const conf = { fsid: 'f-1', dir: '/tmp/c', ports: { mon: 40001, rgw: 40002 }, memstoreBytes: 1 << 30 };

describe('test cluster configuration', () => {
  it('keeps everything on loopback and in its directory, with the settings a quick start needs', () => {
    const text = cephConf(conf);
    for (const line of [
      'mon host = v2:127.0.0.1:40001',
      'ms mon client mode = crc secure',
      'public network = 127.0.0.0/8',
      'cluster network = 127.0.0.0/8',
      'cluster addr = 127.0.0.1',
      'paxos propose interval = 0.1',
      'osd objectstore = memstore',
      'memstore device bytes = 1073741824',
      'mon data = /tmp/c/mon/$id',
      'rgw frontends = beast endpoint=127.0.0.1:40002',
    ]) {
      expect(text.split('\n')).toContain(line);
    }
    expect(text).not.toMatch(/0\.0\.0\.0/);
  });

  it('runs every daemon in the foreground under pdeathsig', () => {
    expect(daemonCommand('rgw', '/tmp/c/ceph.conf')).toEqual({
      command: 'setpriv',
      args: ['--pdeathsig', 'KILL', '--', 'radosgw', '-c', '/tmp/c/ceph.conf', '-f', '-n', 'client.rgw.a'],
    });
    for (const d of ['mon', 'osd'] as const) expect(daemonCommand(d, 'c').args).toContain('-f');
  });

  it('builds the monitor map and the users', () => {
    expect(monmapCommand(conf, '/tmp/c/monmap').args).toEqual([
      '--create',
      '--addv',
      'a',
      '[v2:127.0.0.1:40001]',
      '--fsid',
      'f-1',
      '/tmp/c/monmap',
    ]);
    const user = { uid: 'dock', accessKeyId: 'AK', secretAccessKey: 'SK' };
    expect(userCreateCommand('c', { ...user, admin: true }).args.slice(-1)).toEqual(['--admin']);
    expect(userCreateCommand('c', { ...user, admin: false }).args).not.toContain('--admin');
  });
});
