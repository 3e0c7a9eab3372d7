import { describe, expect, it } from 'vitest';
import { crashedBeforeFirstStep } from '../../../scripts/lab/vm.ts';

describe('the lab boots once more only for a crash before the scenario began', () => {
  it('a SIGSEGV (and SIGILL, SIGABRT, SIGBUS) with no step printed', () => {
    for (const code of [139, 132, 134, 135])
      expect(crashedBeforeFirstStep({ code, output: 'Segmentation fault\n' })).toBe(true);
  });

  it('not once the scenario has printed a step: a crash while the camera runs is the result', () => {
    const output = '[guest 3.2 s] dock broker up, agent subscribed\nSegmentation fault\n';
    expect(crashedBeforeFirstStep({ code: 139, output })).toBe(false);
  });

  it('not for a failure, a kill or success', () => {
    for (const code of [0, 1, 2, 137, 143]) expect(crashedBeforeFirstStep({ code, output: '' })).toBe(false);
  });
});
