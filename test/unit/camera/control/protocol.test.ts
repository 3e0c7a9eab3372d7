import { describe, expect, it } from 'vitest';
import { parseRequest } from '../../../../src/camera/control/protocol.ts';

describe('control request parsing', () => {
  it.each([
    ['{"cmd":"status"}', { cmd: 'status' }],
    ['{"cmd":"press","input":"record"}', { cmd: 'press', input: 'record', count: 1, holdMs: 0 }],
    [
      '{"cmd":"press","input":"record","count":2,"holdMs":3500}',
      { cmd: 'press', input: 'record', count: 2, holdMs: 3500 },
    ],
  ])('%s', (line, expected) => {
    expect(parseRequest(line)).toEqual(expected);
  });

  it.each([
    ['not json', 'not JSON'],
    ['42', 'JSON object'],
    ['null', 'JSON object'],
    ['{"cmd":"reboot"}', 'unknown command'],
    ['{"cmd":"press"}', 'input name'],
    ['{"cmd":"press","input":"record","count":0}', 'count'],
    ['{"cmd":"press","input":"record","count":1.5}', 'count'],
    ['{"cmd":"press","input":"record","holdMs":-1}', 'holdMs'],
    ['{"cmd":"press","input":"record","holdMs":"long"}', 'holdMs'],
    [`{"cmd":"status","pad":"${'x'.repeat(5000)}"}`, 'longer than'],
  ])('rejects %s', (line, message) => {
    const r = parseRequest(line);
    expect('error' in r && r.error).toContain(message);
  });
});
