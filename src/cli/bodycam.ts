#!/usr/bin/env node
import { CommanderError } from 'commander';
import { ErrorCode, isBodycamError, isSubsystemError } from '../lib/errors.ts';
import { exitOnFatal } from '../lib/fatal.ts';
import { buildProgram } from './program.ts';

/**
 * Exit codes: 0 success, 1 failure at run time, 2 usage or configuration error, 70 an internal error (an exception or
 * a promise rejection nobody handled: logged as a fatal JSON line on stderr; systemd restarts the service).
 */
exitOnFatal();
const program = buildProgram();
try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    process.exitCode = e.exitCode === 0 ? 0 : 2;
  } else if (isSubsystemError(e, 'CONFIG') || isBodycamError(e, ErrorCode.USAGE)) {
    process.stderr.write(`bodycam: ${e.message}\n`);
    process.exitCode = 2;
  } else {
    process.stderr.write(`bodycam: ${(e as Error).message}\n`);
    process.exitCode = 1;
  }
}
