/**
 * The programs' fatal line, as a pure function. That every program logs it and exits 70 on an unhandled rejection or
 * exception needs real processes: test/integration/fatal.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { fatalLine } from '../../../src/lib/fatal.ts';

describe('fatalLine', () => {
  it('describes a rejection with a value that is not an Error', () => {
    expect(JSON.parse(fatalLine('unhandledRejection', 42, 1000))).toEqual({
      level: 60,
      time: 1000,
      service: 'bodycam',
      origin: 'unhandledRejection',
      err: { type: 'number', message: '42', stack: '' },
      msg: 'fatal: unhandledRejection',
    });
  });

  it("carries an Error's type, message and stack", () => {
    const error = new TypeError('not a function');
    expect(JSON.parse(fatalLine('uncaughtException', error, 5))).toEqual({
      level: 60,
      time: 5,
      service: 'bodycam',
      origin: 'uncaughtException',
      err: { type: 'TypeError', message: 'not a function', stack: error.stack },
      msg: 'fatal: uncaughtException',
    });
  });
});
