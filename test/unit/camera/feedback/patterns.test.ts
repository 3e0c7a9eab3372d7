import { describe, expect, it } from 'vitest';
import {
  type FeedbackState,
  hapticSteps,
  LED_STEPS,
  type LedPlan,
  ledPlan,
} from '../../../../src/camera/feedback/patterns.ts';

const base: FeedbackState = {
  recorder: 'buffering',
  stealth: false,
  capture: 'ok',
  storage: 'ok',
  clock: 'ok',
  speaker: 'ok',
  microphone: 'ok',
  prompts: 'ok',
  identity: 'ok',
  battery: 'ok',
};

describe('LED plan', () => {
  const cases: Array<[string, Partial<FeedbackState>, LedPlan]> = [
    ['standby: green', {}, { red: 'off', green: 'on', indication: 'standby', warning: null }],
    ['recording: red', { recorder: 'recording' }, { red: 'on', green: 'off', indication: 'recording', warning: null }],
    [
      'stopping still shows recording',
      { recorder: 'stopping' },
      { red: 'on', green: 'off', indication: 'recording', warning: null },
    ],
    [
      'before the capture ran: dark',
      { capture: 'starting' },
      { red: 'off', green: 'off', indication: 'starting', warning: null },
    ],
    [
      'capture down: fast red blink, even while recording',
      { capture: 'fault', recorder: 'recording' },
      { red: 'blink', green: 'off', indication: 'capture-fault', warning: null },
    ],
    [
      'storage full: red double flash',
      { storage: 'full', recorder: 'recording' },
      { red: 'flash2', green: 'off', indication: 'storage-full', warning: null },
    ],
    [
      'capture fault outranks full storage',
      { storage: 'full', capture: 'fault' },
      { red: 'blink', green: 'off', indication: 'capture-fault', warning: null },
    ],
    [
      'standby, storage low: slow red beside green',
      { storage: 'low' },
      { red: 'slow', green: 'on', indication: 'standby', warning: 'storage-low' },
    ],
    [
      'recording, storage low: slow green beside red',
      { storage: 'low', recorder: 'recording' },
      { red: 'on', green: 'slow', indication: 'recording', warning: 'storage-low' },
    ],
    [
      'standby, clock unset: blinking red beside green',
      { clock: 'unset' },
      { red: 'blink', green: 'on', indication: 'standby', warning: 'clock-unset' },
    ],
    [
      'recording, speaker fault: green long and short flash',
      { speaker: 'fault', recorder: 'recording' },
      { red: 'on', green: 'wink', indication: 'recording', warning: 'speaker-fault' },
    ],
    [
      'standby, speaker fault: red long and short flash beside green',
      { speaker: 'fault' },
      { red: 'wink', green: 'on', indication: 'standby', warning: 'speaker-fault' },
    ],
    [
      'full storage outranks a speaker fault',
      { speaker: 'fault', storage: 'full' },
      { red: 'flash2', green: 'off', indication: 'storage-full', warning: null },
    ],
    [
      'speaker fault outranks clock and storage',
      { speaker: 'fault', clock: 'unset', storage: 'low' },
      { red: 'wink', green: 'on', indication: 'standby', warning: 'speaker-fault' },
    ],
    [
      'standby, microphone fault: red triple flash beside green',
      { microphone: 'fault' },
      { red: 'flash3', green: 'on', indication: 'standby', warning: 'microphone-fault' },
    ],
    [
      'recording, microphone fault: green triple flash',
      { microphone: 'fault', recorder: 'recording' },
      { red: 'on', green: 'flash3', indication: 'recording', warning: 'microphone-fault' },
    ],
    [
      'speaker fault outranks a microphone fault',
      { speaker: 'fault', microphone: 'fault' },
      { red: 'wink', green: 'on', indication: 'standby', warning: 'speaker-fault' },
    ],
    [
      'microphone fault outranks the clock',
      { microphone: 'fault', clock: 'unset' },
      { red: 'flash3', green: 'on', indication: 'standby', warning: 'microphone-fault' },
    ],
    [
      'clock outranks low storage',
      { clock: 'unset', storage: 'low' },
      { red: 'blink', green: 'on', indication: 'standby', warning: 'clock-unset' },
    ],
    [
      'standby, a prompt missing: red long-short wink beside green (the warning cannot be given, as with the speaker)',
      { prompts: 'missing' },
      { red: 'wink', green: 'on', indication: 'standby', warning: 'prompts-missing' },
    ],
    [
      'recording, a prompt missing: green long-short wink',
      { prompts: 'missing', recorder: 'recording' },
      { red: 'on', green: 'wink', indication: 'recording', warning: 'prompts-missing' },
    ],
    [
      'a missing prompt outranks the microphone',
      { prompts: 'missing', microphone: 'fault' },
      { red: 'wink', green: 'on', indication: 'standby', warning: 'prompts-missing' },
    ],
    [
      'no usable signing key: a short red pulse beside green',
      { identity: 'fault' },
      { red: 'pulse', green: 'on', indication: 'standby', warning: 'setup-fault' },
    ],
    [
      'the missing key outranks low storage',
      { identity: 'fault', storage: 'low' },
      { red: 'pulse', green: 'on', indication: 'standby', warning: 'setup-fault' },
    ],
    [
      'recording without a usable key and with the clock unset: the clock shows first',
      { identity: 'fault', clock: 'unset', recorder: 'recording' },
      { red: 'on', green: 'blink', indication: 'recording', warning: 'clock-unset' },
    ],
    [
      'standby, battery low: red single flash beside green',
      { battery: 'low' },
      { red: 'flash1', green: 'on', indication: 'standby', warning: 'battery-low' },
    ],
    [
      'recording, battery low: green single flash beside red (the recording goes on)',
      { battery: 'low', recorder: 'recording' },
      { red: 'on', green: 'flash1', indication: 'recording', warning: 'battery-low' },
    ],
    [
      'a low battery outranks every lesser fault',
      { battery: 'low', speaker: 'fault', microphone: 'fault', clock: 'unset', storage: 'low' },
      { red: 'flash1', green: 'on', indication: 'standby', warning: 'battery-low' },
    ],
    [
      'stealth: everything dark, faults included',
      { stealth: true, recorder: 'recording', capture: 'fault' },
      { red: 'off', green: 'off', indication: 'stealth', warning: null },
    ],
  ];
  it.each(cases)('%s', (_name, change, plan) => {
    expect(ledPlan({ ...base, ...change })).toEqual(plan);
  });

  it('gives every fault a pattern distinct from the others and from the plain states', () => {
    const shows = [
      ledPlan(base),
      ledPlan({ ...base, recorder: 'recording' }),
      ledPlan({ ...base, capture: 'fault' }),
      ledPlan({ ...base, storage: 'full' }),
      ledPlan({ ...base, storage: 'low' }),
      ledPlan({ ...base, clock: 'unset' }),
      ledPlan({ ...base, speaker: 'fault' }),
      ledPlan({ ...base, microphone: 'fault' }),
      ledPlan({ ...base, identity: 'fault' }),
      ledPlan({ ...base, battery: 'low' }),
    ].map((p) => `${p.red}/${p.green}`);
    expect(new Set(shows).size).toBe(shows.length);
  });

  it('tells every standby fault from full storage by the red LED alone (the green may go unseen)', () => {
    const red = (change: Partial<FeedbackState>) => LED_STEPS[ledPlan({ ...base, ...change }).red].join(',');
    const full = red({ storage: 'full' });
    const faults = [
      red({ speaker: 'fault' }),
      red({ microphone: 'fault' }),
      red({ clock: 'unset' }),
      red({ storage: 'low' }),
    ];
    expect(faults).not.toContain(full);
    expect(new Set(faults).size).toBe(faults.length);
  });
});

describe('haptic cues', () => {
  it.each([
    ['start', [150, 150, 150]],
    ['stop', [150]],
    ['reminder', [150]],
    ['refused', [75, 75, 75, 75, 75]],
    ['say-warning', [600, 300, 600, 300, 600]],
    ['battery-low', [300, 150, 300]],
  ] as const)('%s at 150 ms pulses → %j', (cue, steps) => {
    expect(hapticSteps(cue, 150)).toEqual(steps);
  });

  it('counts pulses: two at start, one at stop', () => {
    const pulses = (steps: number[]) => steps.filter((_, i) => i % 2 === 0).length;
    expect(pulses(hapticSteps('start', 100))).toBe(2);
    expect(pulses(hapticSteps('stop', 100))).toBe(1);
  });

  it('feels "give the warning yourself" unlike any other cue: three long pulses', () => {
    const others = (['start', 'stop', 'reminder', 'refused'] as const).map((c) => hapticSteps(c, 150).join(','));
    expect(others).not.toContain(hapticSteps('say-warning', 150).join(','));
    const say = hapticSteps('say-warning', 150);
    expect(say.filter((_, i) => i % 2 === 0)).toEqual([600, 600, 600]);
    expect(Math.min(...say.filter((_, i) => i % 2 === 0))).toBeGreaterThan(Math.max(...hapticSteps('start', 150)));
  });
});
