/**
 * The comparison's process-tree sampler on real processes (/proc): the root counted as the controller, a command
 * excluded from the tree (the camera's stand-in) kept apart, and CPU by command.
 */
import { spawn, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { TreeSampler } from '../../../scripts/bench/compare/procstat.ts';

describe('the comparison sampler', () => {
  it('sums a process tree by command, the root as the controller and excluded commands apart', async () => {
    // A shell that burns CPU, then waits on a child that burns CPU too, here excluded as a camera's stand-in is.
    const burn = 'i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done';
    const root = spawn('sh', ['-c', `${burn}; sh -c 'exec md5sum /dev/zero' & wait`], { stdio: 'ignore' });
    const sampler = new TreeSampler(root.pid ?? 0);
    sampler.mark();
    let totals = sampler.totals(['md5sum']);
    for (let i = 0; i < 100 && (totals.byCommand['md5sum (not counted)'] ?? 0) < 0.2; i += 1) {
      await new Promise((r) => setTimeout(r, 100));
      sampler.sample();
      totals = sampler.totals(['md5sum']);
    }
    spawnSync('pkill', ['-KILL', '-P', String(root.pid)]); // before the root, while md5sum is still its child
    root.kill('SIGKILL');
    expect(totals.byCommand['controller']).toBeGreaterThan(0.1);
    expect(totals.byCommand['md5sum (not counted)']).toBeGreaterThanOrEqual(0.2);
    expect(totals.controller.cpu).toBe(totals.byCommand['controller']);
    // The tree counts the controller but not the excluded command.
    expect(totals.tree.cpu).toBeCloseTo(totals.controller.cpu, 5);
  });
});
