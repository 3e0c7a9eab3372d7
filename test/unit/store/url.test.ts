import { describe, expect, it } from 'vitest';
import { endpointProblem, parseS3Url } from '../../../src/store/url.ts';

describe('parseS3Url', () => {
  it.each([
    ['s3://evidence', { bucket: 'evidence', prefix: '' }],
    ['s3://evidence/', { bucket: 'evidence', prefix: '' }],
    ['s3://evidence/bodycam', { bucket: 'evidence', prefix: 'bodycam' }],
    ['s3://my.evidence-1/bodycam/be/', { bucket: 'my.evidence-1', prefix: 'bodycam/be' }],
  ])('%s', (text, ok) => {
    expect(parseS3Url(text)).toEqual({ ok });
  });

  it.each([
    ['evidence/bodycam', 'not an s3://BUCKET/PREFIX'],
    ['s3://', 'not a bucket name'],
    ['s3://Evidence', 'not a bucket name'],
    ['s3://ab', 'not a bucket name'],
    ['s3://-evidence', 'not a bucket name'],
    ['s3://192.168.1.10', 'not a bucket name'],
    ['s3://a..b', 'not a bucket name'],
    ['s3://evidence/a//b', 'not a key prefix'],
    ['s3://evidence/a/../b', 'not a key prefix'],
    ['s3://evidence/a b', 'not a key prefix'],
  ])('refuses %s', (text, message) => {
    const r = parseS3Url(text);
    expect('error' in r ? r.error : 'accepted').toContain(message);
  });
});

describe('endpointProblem', () => {
  it.each([
    ['https://s3.example.org', undefined],
    ['http://127.0.0.1:7480', undefined],
    ['http://127.0.0.1:7480/', undefined],
    ['s3.example.org', 'is not a URL'],
    ['ftp://s3.example.org', 'must start with https:// or http://'],
    ['https://key:secret@s3.example.org', 'must not carry credentials'],
    ['https://s3.example.org/evidence', 'without a path'],
  ])('%s', (endpoint, problem) => {
    const p = endpointProblem(endpoint);
    if (problem === undefined) expect(p).toBeUndefined();
    else expect(p).toContain(problem);
  });
});
