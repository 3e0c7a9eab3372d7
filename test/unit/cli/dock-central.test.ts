import { describe, expect, it } from 'vitest';
import { centralFromFlags } from '../../../src/cli/dock-central.ts';
import { ErrorCode, isBodycamError } from '../../../src/lib/errors.ts';

const ALL = {
  central: 'fleet.example:8883',
  site: 'zone-5339-a',
  centralCa: 'ca.crt',
  centralCert: 'bridge.crt',
  centralKey: 'bridge.key',
};

function usage(f: Parameters<typeof centralFromFlags>[0]): string {
  try {
    centralFromFlags(f);
  } catch (e) {
    if (isBodycamError(e) && e.code === ErrorCode.USAGE) return e.message;
    throw e;
  }
  throw new Error('accepted');
}

describe('dock init --central …', () => {
  it('no --central flag: no bridge', () => {
    expect(centralFromFlags({})).toBeUndefined();
  });

  it('all five: the central section of dock.json', () => {
    expect(centralFromFlags(ALL)).toEqual({ address: 'fleet.example:8883', site: 'zone-5339-a' });
  });

  it.each(Object.keys(ALL))('refuses the others without %s', (missing) => {
    expect(usage({ ...ALL, [missing]: undefined })).toMatch(/go together/);
  });

  it('refuses a site name the centre cannot take and an address without a port', () => {
    expect(usage({ ...ALL, site: 'zone/a' })).toMatch(/--site: "zone\/a" is not a site name/);
    expect(usage({ ...ALL, central: 'fleet.example' })).toMatch(/is not host:port/);
  });
});
