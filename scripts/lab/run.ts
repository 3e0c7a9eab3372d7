/**
 * Runs one command in the device lab and prints its output: `node scripts/lab/run.ts -- v4l2-ctl --all`.
 * Exits with the command's exit code.
 */
import { labMissing, runInLab } from './vm.ts';

const at = process.argv.indexOf('--');
const command = (at >= 0 ? process.argv.slice(at + 1) : process.argv.slice(2)).join(' ');
if (command === '') {
  console.error('usage: node scripts/lab/run.ts -- <command>');
  process.exit(2);
}
const missing = labMissing();
if (missing !== null) {
  console.error(`lab: cannot start: ${missing}`);
  process.exit(3);
}
const run = await runInLab({ command });
process.stdout.write(run.output);
console.error(
  `lab: kernel ${run.kernelVersion}, exit ${run.code}, ${run.seconds.toFixed(1)} s (output kept in ${run.outDir})`,
);
process.exit(run.code);
