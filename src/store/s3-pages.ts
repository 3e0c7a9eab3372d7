/**
 * The S3 driver's paginated listings: latest objects and all versions under a prefix, pending multipart uploads of
 * a key and the parts one holds. Each page is one request; the next marker continues until the listing ends.
 */
import {
  type _Object,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  ListPartsCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { ListEntry, PendingUpload, UploadedPart, VersionEntry } from './port.ts';

/** What a listing needs of the driver: its client, its bucket, and its request wrapper (errors as STORE_ codes). */
export interface PageContext {
  client: S3Client;
  bucket: string;
  send<T>(what: string, key: string | undefined, op: () => Promise<T>): Promise<T>;
}

export const stripQuotes = (etag: string | undefined): string => (etag ?? '').replace(/^"|"$/g, '');

export async function* listObjects(ctx: PageContext, prefix: string): AsyncIterable<ListEntry> {
  let token: string | undefined;
  do {
    const page = await ctx.send('ListObjectsV2', prefix, () =>
      ctx.client.send(
        new ListObjectsV2Command({
          Bucket: ctx.bucket,
          Prefix: prefix,
          ...(token === undefined ? {} : { ContinuationToken: token }),
        }),
      ),
    );
    for (const o of page.Contents ?? ([] as _Object[])) {
      yield {
        key: o.Key ?? '',
        size: o.Size ?? 0,
        etag: stripQuotes(o.ETag),
        lastModified: o.LastModified ?? new Date(0),
      };
    }
    token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
}

export async function* listObjectVersions(ctx: PageContext, prefix: string): AsyncIterable<VersionEntry> {
  let keyMarker: string | undefined;
  let versionMarker: string | undefined;
  do {
    const page = await ctx.send('ListObjectVersions', prefix, () =>
      ctx.client.send(
        new ListObjectVersionsCommand({
          Bucket: ctx.bucket,
          Prefix: prefix,
          ...(keyMarker === undefined ? {} : { KeyMarker: keyMarker }),
          ...(versionMarker === undefined ? {} : { VersionIdMarker: versionMarker }),
        }),
      ),
    );
    const entries: VersionEntry[] = [
      ...(page.Versions ?? []).map((v) => ({
        key: v.Key ?? '',
        versionId: v.VersionId ?? '',
        isLatest: v.IsLatest === true,
        deleteMarker: false,
        size: v.Size ?? 0,
        etag: stripQuotes(v.ETag),
        lastModified: v.LastModified ?? new Date(0),
      })),
      ...(page.DeleteMarkers ?? []).map((m) => ({
        key: m.Key ?? '',
        versionId: m.VersionId ?? '',
        isLatest: m.IsLatest === true,
        deleteMarker: true,
        size: 0,
        etag: '',
        lastModified: m.LastModified ?? new Date(0),
      })),
    ];
    entries.sort((a, b) =>
      a.key < b.key ? -1 : a.key > b.key ? 1 : b.lastModified.getTime() - a.lastModified.getTime(),
    );
    yield* entries;
    const more = page.IsTruncated === true;
    keyMarker = more ? page.NextKeyMarker : undefined;
    versionMarker = more ? page.NextVersionIdMarker : undefined;
  } while (keyMarker !== undefined);
}

export async function listUploads(ctx: PageContext, key: string): Promise<PendingUpload[]> {
  const found: PendingUpload[] = [];
  let keyMarker: string | undefined;
  let idMarker: string | undefined;
  do {
    const page = await ctx.send('ListMultipartUploads', key, () =>
      ctx.client.send(
        new ListMultipartUploadsCommand({
          Bucket: ctx.bucket,
          Prefix: key,
          ...(keyMarker === undefined ? {} : { KeyMarker: keyMarker }),
          ...(idMarker === undefined ? {} : { UploadIdMarker: idMarker }),
        }),
      ),
    );
    for (const u of page.Uploads ?? []) {
      if (u.Key === key && u.UploadId !== undefined) {
        found.push({ key, uploadId: u.UploadId, initiated: u.Initiated ?? new Date(0) });
      }
    }
    const more = page.IsTruncated === true;
    keyMarker = more ? page.NextKeyMarker : undefined;
    idMarker = more ? page.NextUploadIdMarker : undefined;
  } while (keyMarker !== undefined);
  return found;
}

export async function listParts(ctx: PageContext, key: string, uploadId: string): Promise<UploadedPart[]> {
  const found: UploadedPart[] = [];
  let marker: string | undefined;
  do {
    const page = await ctx.send('ListParts', key, () =>
      ctx.client.send(
        new ListPartsCommand({
          Bucket: ctx.bucket,
          Key: key,
          UploadId: uploadId,
          ...(marker === undefined ? {} : { PartNumberMarker: marker }),
        }),
      ),
    );
    for (const p of page.Parts ?? []) {
      found.push({ partNumber: p.PartNumber ?? 0, etag: stripQuotes(p.ETag), size: p.Size ?? 0 });
    }
    marker = page.IsTruncated === true ? page.NextPartNumberMarker : undefined;
  } while (marker !== undefined);
  return found;
}
