import { describe, expect, it } from 'vitest';
import { bucketProblems, checkBucket } from '../../../src/store/bucket-check.ts';
import { MemoryObjectStore } from '../../../src/store/memory.ts';
import type { BucketFacts } from '../../../src/store/port.ts';

const good: BucketFacts = {
  exists: true,
  objectLockEnabled: true,
  versioning: 'Enabled',
  defaultRetention: { mode: 'COMPLIANCE', days: 30 },
};

describe('bucketProblems', () => {
  it.each<[string, Partial<BucketFacts>, string[]]>([
    ['a bucket as evidence needs it', {}, []],
    [
      'a default rule shorter than the minimum (every object carries its own)',
      { defaultRetention: { mode: 'COMPLIANCE', days: 1 } },
      [],
    ],
    ['no bucket', { exists: false }, ['does not exist: create it with Object Lock enabled']],
    [
      'a plain bucket',
      { objectLockEnabled: false, versioning: 'Off', defaultRetention: null },
      ['has no Object Lock', 'versioning is off: an overwrite would replace evidence; enable it'],
    ],
    ['versioning suspended', { versioning: 'Suspended' }, ['versioning is suspended']],
    ['no default retention', { defaultRetention: null }, ['has no default retention rule: add one in COMPLIANCE mode']],
    [
      'a GOVERNANCE default',
      { defaultRetention: { mode: 'GOVERNANCE', days: 30 } },
      ['default retention is GOVERNANCE, which privileged users can lift'],
    ],
  ])('%s', (_why, change, expected) => {
    const problems = bucketProblems('evidence', { ...good, ...change }, 30);
    expect(problems).toHaveLength(expected.length);
    expected.forEach((text, i) => {
      expect(problems[i]).toContain(text);
      expect(problems[i]).toContain('evidence');
    });
  });

  it('names the fix with the minimum in days', () => {
    expect(bucketProblems('ev1', { ...good, defaultRetention: null }, 45)[0]).toContain('"Days":45');
  });
});

describe('checkBucket', () => {
  it('passes a good bucket and refuses a bad one listing every problem', async () => {
    const store = new MemoryObjectStore();
    await expect(checkBucket(store, 'evidence', 30)).resolves.toEqual(good);
    store.facts = { ...good, objectLockEnabled: false, defaultRetention: null, versioning: 'Suspended' };
    await expect(checkBucket(store, 'evidence', 30)).rejects.toMatchObject({
      code: 'STORE_BUCKET',
      message: expect.stringMatching(/no Object Lock[\s\S]*versioning is suspended/),
    });
  });
});
