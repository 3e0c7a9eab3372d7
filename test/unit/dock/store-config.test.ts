import { describe, expect, it } from 'vitest';
import { storeFromFlags } from '../../../src/cli/dock-store.ts';
import { parseDockConfig } from '../../../src/dock/layout.ts';

const BASE = {
  version: 1,
  host: 'dock.local',
  port: 8883,
  bind: '127.0.0.1',
  broker: 'managed',
  mosquittoPath: '/usr/sbin/mosquitto',
};
const S3 = {
  kind: 's3',
  endpoint: 'https://s3.zone.example',
  bucket: 'evidence',
  credentialsFile: 's3.credentials',
  organisation: 'pz5339',
};

describe('dock.json store section', () => {
  it('is the filesystem by default', () => {
    expect(parseDockConfig(BASE, 'dock.json').store).toEqual({ kind: 'filesystem' });
  });

  it('fills the defaults of an S3 store', () => {
    expect(parseDockConfig({ ...BASE, store: S3 }, 'dock.json').store).toEqual({
      ...S3,
      prefix: '',
      region: 'us-east-1',
      profile: 'default',
      minimumDays: 30,
      deleteAfterMonths: 12,
    });
  });

  it.each<[string, Record<string, unknown>, string[]]>([
    ['an unknown kind', { kind: 'tape' }, ['store.kind: must be one of "filesystem", "s3"']],
    [
      'a missing bucket and organisation',
      { ...S3, bucket: undefined, organisation: undefined },
      ['store.bucket: required', 'store.organisation: required'],
    ],
    ['a minimum under the law', { ...S3, minimumDays: 7 }, ['store.minimumDays: must be at least 30']],
    ['keeping beyond a year', { ...S3, deleteAfterMonths: 24 }, ['store.deleteAfterMonths: must be at most 12']],
    ['a bad organisation', { ...S3, organisation: 'zone 5' }, ['store.organisation: letters, digits']],
    ['a misspelt key', { ...S3, bukket: 'x' }, ['store.bukket: unknown key']],
    [
      'a bad endpoint, bucket and prefix',
      { ...S3, endpoint: 'evidence.example', bucket: 'Evidence', prefix: 'a//b' },
      [
        'store.endpoint: "evidence.example" is not a URL',
        'store.bucket: "Evidence" is not a bucket name',
        'store.prefix: "a//b" is not a key prefix',
      ],
    ],
  ])('refuses %s, naming each key', (_why, store, lines) => {
    let message = '';
    try {
      parseDockConfig({ ...BASE, store }, '/srv/dock/dock.json');
    } catch (e) {
      message = (e as Error).message;
    }
    for (const line of lines) expect(message).toContain(`  ${line}`);
  });
});

describe('dock init store flags', () => {
  it.each<[string, Record<string, string>, unknown]>([
    ['none', {}, { kind: 'filesystem' }],
    ['filesystem', { store: 'filesystem' }, { kind: 'filesystem' }],
    [
      's3 with a prefix and a relative credentials file',
      {
        store: 's3://evidence/bodycam/be',
        s3Endpoint: 'http://127.0.0.1:7480',
        s3Credentials: 'creds',
        organisation: 'pz5339',
      },
      {
        kind: 's3',
        endpoint: 'http://127.0.0.1:7480',
        bucket: 'evidence',
        prefix: 'bodycam/be',
        credentialsFile: '/srv/creds',
        organisation: 'pz5339',
      },
    ],
    [
      's3 with a region',
      {
        store: 's3://evidence',
        s3Endpoint: 'https://s3.example',
        s3Credentials: '/etc/c',
        organisation: 'fed',
        s3Region: 'eu-west-3',
      },
      {
        kind: 's3',
        endpoint: 'https://s3.example',
        bucket: 'evidence',
        prefix: '',
        region: 'eu-west-3',
        credentialsFile: '/etc/c',
        organisation: 'fed',
      },
    ],
  ])('%s', (_why, flags, section) => {
    expect(storeFromFlags(flags, '/srv')).toEqual(section);
  });

  it.each<[string, Record<string, string>, string]>([
    ['s3 flags without --store', { s3Endpoint: 'http://x' }, '--s3-endpoint only go with --store s3://BUCKET/PREFIX'],
    ['a bad location', { store: 'evidence' }, '--store: "evidence" is not an s3://BUCKET/PREFIX location'],
    ['missing flags', { store: 's3://evidence' }, 'needs --s3-endpoint URL, --s3-credentials FILE, --organisation ORG'],
    [
      'a bad endpoint',
      { store: 's3://evidence', s3Endpoint: 'x', s3Credentials: 'c', organisation: 'o' },
      '--s3-endpoint: "x" is not a URL',
    ],
    [
      'a bad organisation',
      { store: 's3://evidence', s3Endpoint: 'http://x', s3Credentials: 'c', organisation: 'a/b' },
      '--organisation: "a/b"',
    ],
  ])('refuses %s', (_why, flags, message) => {
    expect(() => storeFromFlags(flags, '/srv')).toThrow(
      expect.objectContaining({ code: 'USAGE', message: expect.stringContaining(message) }),
    );
  });
});
