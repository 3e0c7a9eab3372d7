/** An object store that forwards to `store`, with some operations replaced (to count, fail or lie in a test). */
import type { ObjectStore } from '../../src/store/port.ts';

const OPS = [
  'bucketFacts',
  'put',
  'head',
  'get',
  'list',
  'listVersions',
  'setRetention',
  'legalHold',
  'setLegalHold',
  'delete',
  'startMultipart',
  'uploads',
  'parts',
  'putPart',
  'completeMultipart',
  'abortMultipart',
] as const satisfies readonly (keyof ObjectStore)[];

export function wrapStore(store: ObjectStore, overrides: Partial<ObjectStore>): ObjectStore {
  const forwarded = Object.fromEntries(
    OPS.map((op) => [op, overrides[op] ?? (store[op] as (...a: unknown[]) => unknown).bind(store)]),
  );
  return { describe: store.describe, ...forwarded } as unknown as ObjectStore;
}
