import { describe, expect, it } from 'vitest';
import { type DockLimits, limitsSchema, MiB } from '../../../src/dock/limits.ts';
import { admit, taken } from '../../../src/dock/sync/budget.ts';
import { chunkProblem } from '../../../src/dock/sync/transfer.ts';
import { CHUNK_BYTES } from '../../../src/protocol/limits.ts';

const parsed = limitsSchema.safeParse({ maxSegmentMiB: 100, cameraQuotaMiB: 1000, minFreeMiB: 500 });
if (!parsed.ok) throw new Error('limits');
const LIMITS: DockLimits = parsed.value;

describe('admitting a segment', () => {
  it.each<[string, number, number, number, string]>([
    ['fits everywhere', 50, 0, 10_000, 'ok'],
    ['exactly the size cap', 100, 0, 10_000, 'ok'],
    ['one byte over the size cap', 100 + 1 / MiB, 0, 10_000, 'too-large'],
    ['fills the quota exactly', 100, 900, 10_000, 'ok'],
    ['goes over the quota', 100, 901, 10_000, 'over-quota'],
    ['leaves the floor exactly', 100, 0, 600, 'ok'],
    ['goes under the floor', 100, 0, 599, 'dock-disk-full'],
    ['a disk already under its floor', 1, 0, 100, 'dock-disk-full'],
    ['too large and over quota: the size is named', 200, 1000, 0, 'too-large'],
  ])('%s', (_name, mib, cameraMiB, freeMiB, verdict) => {
    const v = admit(mib * MiB, LIMITS, { cameraBytes: cameraMiB * MiB, freeBytes: freeMiB * MiB });
    expect('code' in v ? v.code : 'ok').toBe(verdict);
  });

  it('counts what it took against the next offer', () => {
    let state = { cameraBytes: 0, freeBytes: 10_000 * MiB };
    const verdicts: string[] = [];
    for (let i = 0; i < 12; i++) {
      const v = admit(100 * MiB, LIMITS, state);
      verdicts.push('code' in v ? v.code : 'ok');
      if (!('code' in v)) state = taken(state, 100 * MiB);
    }
    expect(verdicts).toEqual([...Array(10).fill('ok'), 'over-quota', 'over-quota']);
    expect(state).toEqual({ cameraBytes: 1000 * MiB, freeBytes: 9000 * MiB });
  });

  it('says what was exceeded, with the limit', () => {
    const v = admit(200 * MiB, LIMITS, { cameraBytes: 0, freeBytes: 0 });
    expect(v).toEqual({ code: 'too-large', message: '200.0 MiB is over the 100 MiB segment limit' });
  });
});

describe('a chunk as asked for', () => {
  const bytes = 3 * CHUNK_BYTES + 1000;
  const requested = bytes;
  it.each<[string, number, number, string | undefined]>([
    ['the first chunk', 0, CHUNK_BYTES, undefined],
    ['a middle chunk', CHUNK_BYTES, CHUNK_BYTES, undefined],
    ['the short last chunk', 3 * CHUNK_BYTES, 1000, undefined],
    ['more than a chunk', 0, CHUNK_BYTES + 1, 'a chunk holds at most'],
    ['four chunks in one', 0, 4 * CHUNK_BYTES, 'a chunk holds at most'],
    ['off a chunk boundary', 100, CHUNK_BYTES, 'not on a chunk boundary'],
    ['beyond what was asked', 4 * CHUNK_BYTES, 10, 'was not asked for'],
    ['short, not the last', CHUNK_BYTES, CHUNK_BYTES - 1, 'the pull asked for 262144'],
    ['the last, too long', 3 * CHUNK_BYTES, 1001, 'the pull asked for 1000'],
    ['the last, too short', 3 * CHUNK_BYTES, 999, 'the pull asked for 1000'],
    ['empty', 0, 0, 'the pull asked for 262144'],
  ])('%s', (_name, offset, length, problem) => {
    const got = chunkProblem({ offset, length }, { bytes, requested });
    if (problem === undefined) expect(got).toBeUndefined();
    else expect(got).toContain(problem);
  });

  it('refuses what lies past the window asked for so far', () => {
    expect(chunkProblem({ offset: CHUNK_BYTES, length: CHUNK_BYTES }, { bytes, requested: CHUNK_BYTES })).toContain(
      'was not asked for',
    );
  });
});
