import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../../src/config/load.ts';

const RECIPIENT = 'age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p';

function base(): Record<string, any> {
  return {
    device: { id: 'cam-1' },
    capture: { source: { kind: 'synthetic' } },
    encryption: { recipients: [RECIPIENT] },
    storage: { dir: 'storage' },
    gpio: { inputs: { record: { pin: 5 }, trigger: { pin: 6 } } },
  };
}

describe('config validation', () => {
  it('fills every default and resolves the storage dir', () => {
    const r = validateConfig(base(), '/etc/bodycam');
    if (!r.ok) throw new Error(JSON.stringify(r.problems));
    expect(r.config.preRecord).toEqual({ seconds: 30, audio: false });
    expect(r.config.recording.segmentSeconds).toBe(60);
    expect(r.config.capture.source).toMatchObject({ width: 1280, height: 720, fps: 30, gopSeconds: 1, speed: 1 });
    expect(r.config.controls).toMatchObject({ startPattern: 'double', stopHoldMs: 3000, recordInput: 'record' });
    expect(r.config.storage.dir).toBe('/etc/bodycam/storage');
    expect(r.config.storage.lowMinutes).toBe(30);
    expect(r.config.feedback.speakerCheckSeconds).toBe(60);
    expect(r.config.feedback.storageLowMb).toBeUndefined();
  });

  it('still loads a config with the deprecated feedback.storageLowMb (ignored: thresholds are in minutes)', () => {
    const c = base();
    c['feedback'] = { storageLowMb: 2048 };
    const r = validateConfig(c, '/etc/bodycam');
    if (!r.ok) throw new Error(JSON.stringify(r.problems));
    expect(r.config.feedback.storageLowMb).toBe(2048);
    expect(r.config.storage.lowMinutes).toBe(30);
    c['feedback'] = { storageLowMb: -1 };
    expect(validateConfig(c, '/etc/bodycam').ok).toBe(false);
  });

  it.each<[string, (c: Record<string, any>) => void, string, string]>([
    ['pre-roll too long', (c) => (c['preRecord'] = { seconds: 121 }), 'preRecord.seconds', 'at most 120'],
    ['negative pre-roll', (c) => (c['preRecord'] = { seconds: -1 }), 'preRecord.seconds', 'at least 0'],
    ['unknown key', (c) => (c['preRecord'] = { secs: 10 }), 'preRecord.secs', 'unknown key'],
    ['unknown top-level key', (c) => (c['extra'] = true), 'extra', 'unknown key'],
    ['wrong type', (c) => (c['capture'].source.fps = '30'), 'capture.source.fps', 'expected number'],
    ['unknown source', (c) => (c['capture'].source.kind = 'webcam'), 'capture.source.kind', ''],
    ['no recipient', (c) => (c['encryption'].recipients = []), 'encryption.recipients', 'bodycam keygen'],
    ['bad recipient', (c) => (c['encryption'].recipients = ['age1xyz']), 'encryption.recipients.0', 'X25519'],
    ['missing device id', (c) => delete c['device'].id, 'device.id', ''],
    ['pin off the header', (c) => (c['gpio'].inputs.record.pin = 40), 'gpio.inputs.record.pin', 'at most 27'],
    ['record input undefined', (c) => delete c['gpio'].inputs.record, 'controls.recordInput', 'gpio.inputs'],
    [
      'trigger input undefined',
      (c) => delete c['gpio'].inputs.trigger,
      'controls.triggerInputs.0',
      'not in gpio.inputs',
    ],
    // Found by test/fuzz/config.test.ts: `in` also found the names every object inherits.
    [
      'record input named like an inherited property',
      (c) => (c['controls'] = { recordInput: 'constructor' }),
      'controls.recordInput',
      'gpio.inputs',
    ],
    [
      'trigger input named like an inherited property',
      (c) => (c['controls'] = { triggerInputs: ['toString'] }),
      'controls.triggerInputs.0',
      'not in gpio.inputs',
    ],
  ])('%s', (_name, mutate, key, message) => {
    const doc = base();
    mutate(doc);
    const r = validateConfig(doc, '/');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const problem = r.problems.find((p) => p.key === key);
    expect(problem, JSON.stringify(r.problems)).toBeDefined();
    expect(problem?.message).toContain(message);
  });

  it('reports every problem at once', () => {
    const doc = base();
    doc['preRecord'] = { seconds: 500, typo: 1 };
    doc['capture'].source.width = 'wide';
    const r = validateConfig(doc, '/');
    expect(r.ok).toBe(false);
    if (!r.ok)
      expect(r.problems.map((p) => p.key).sort()).toEqual([
        'capture.source.width',
        'preRecord.seconds',
        'preRecord.typo',
      ]);
  });
});
