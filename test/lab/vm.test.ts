/**
 * Device lab, the lab itself: a scenario whose process crashes before its first step (the emulated CPU's doing, not
 * the camera's) is booted once more, and the kernel's line for the crash reaches the host; a crash after the first
 * step is the run's result. Real boots, a real SIGSEGV.
 */
import { describe, expect } from 'vitest';
import { runInLab } from '../../scripts/lab/vm.ts';
import { itLab } from './lab.ts';

// The first boot crashes: Python reads address 0 (a real fault, which the kernel logs; Node's own faults are not
// logged, as Node handles SIGSEGV itself before dying of it). The output directory, shared by both boots,
// remembers that it did.
const crashOnce = (after: string) =>
  'if [ ! -e /tmp/lab-out/crashed ]; then touch /tmp/lab-out/crashed; ' +
  `${after} exec python3 -c 'import ctypes; ctypes.string_at(0)'; fi; echo '[guest 0.0 s] done'`;

describe('device lab: a scenario that crashes', () => {
  itLab(
    'before its first step: booted once more, the first crash and its kernel line kept',
    async () => {
      const run = await runInLab({ command: crashOnce(''), timeoutMs: 300_000 });
      expect(run.code).toBe(0);
      expect(run.output).toContain('[guest 0.0 s] done');
      expect(run.crashedFirst).toMatch(/^exit 139 before the first step/);
      expect(run.crashedFirst).toMatch(/lab: kernel: .*python3\[\d+\]: segfault at/);
    },
    600_000,
  );

  itLab(
    'after its first step: the crash is the result, no second boot',
    async () => {
      const run = await runInLab({ command: crashOnce(`echo '[guest 0.0 s] started';`), timeoutMs: 300_000 });
      expect(run.code).toBe(139);
      expect(run.crashedFirst).toBeUndefined();
      expect(run.console).toMatch(/lab: kernel: .*python3\[\d+\]: segfault at/);
    },
    600_000,
  );
});
