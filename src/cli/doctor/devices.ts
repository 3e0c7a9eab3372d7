/** Device checks: the GPIO lines of the board, the speaker, and the warning prompts it plays. */
import { constants } from 'node:fs';
import { access, readdir } from 'node:fs/promises';
import path from 'node:path';
import { loadWarningClips } from '../../camera/feedback/prompts.ts';
import { aplayArgs } from '../../hal/audio/alsa.ts';
import { buildWav } from '../../hal/audio/wav.ts';
import { headerChipBase, readGpioChips, SYSFS_GPIO_ROOT } from '../../hal/gpio/onoff.ts';
import { type Check, type CheckResult, fail, lastLine, pass, warn } from './check.ts';

const lineList = (ctx: Parameters<Check>[0]): string =>
  Object.entries({ ...ctx.config.gpio.inputs, ...ctx.config.gpio.outputs })
    .map(([name, p]) => `${name}=BCM${p.pin}`)
    .join(' ');

/**
 * The dock-sense and silent lines may be absent (a 0.1.0 camera has no silent button), so the config accepts a name
 * no line has; doctor warns, since a typo there silently turns off dock sensing or silent activation.
 */
export const gpioCheck: Check = async (ctx) => {
  const lines = await gpioLines(ctx);
  const controls = ctx.config.controls;
  const unwired = [
    ['controls.dockInput', controls.dockInput, 'the dock is not sensed: footage is never offloaded'],
    ['controls.silentInput', controls.silentInput, 'no silent activation or stealth'],
  ].filter(([, name]) => !Object.hasOwn(ctx.config.gpio.inputs, name as string));
  return [
    lines,
    ...unwired.map(([key, name, effect]) =>
      warn(
        'gpio',
        `${key} names "${name}", which gpio.inputs does not define: ${effect}`,
        `add the line to gpio.inputs or fix ${key}`,
      ),
    ),
  ];
};

async function gpioLines(ctx: Parameters<Check>[0]): Promise<CheckResult> {
  const driver = ctx.config.gpio.driver;
  if (driver === 'sim') return pass('gpio', `simulated lines (sim driver): ${lineList(ctx)}`);
  if (driver === 'onoff') {
    const root = path.join(ctx.root, SYSFS_GPIO_ROOT);
    try {
      await access(path.join(root, 'export'), constants.W_OK);
    } catch {
      return fail(
        'gpio',
        `no writable GPIO sysfs at ${root}/export`,
        'on a Raspberry Pi run as a member of the gpio group; a kernel without GPIO sysfs (or a Pi 5) needs gpio.driver gpiox',
      );
    }
    const base = headerChipBase(await readGpioChips(root));
    return pass('gpio', `sysfs GPIO, header chip base ${base}: ${lineList(ctx)}`);
  }
  const dev = path.join(ctx.root, '/dev');
  const chips = (await readdir(dev).catch(() => [])).filter((f) => /^gpiochip\d+$/.test(f));
  if (chips.length === 0) {
    return fail(
      'gpio',
      `no GPIO character device (${dev}/gpiochip*)`,
      'this is not a Raspberry Pi 5, or the kernel lacks GPIO_CDEV',
    );
  }
  for (const chip of chips) {
    try {
      await access(path.join(dev, chip), constants.R_OK | constants.W_OK);
    } catch {
      return fail(
        'gpio',
        `${dev}/${chip} is not readable and writable`,
        'run the camera as a member of the gpio group',
      );
    }
  }
  return pass('gpio', `GPIO character devices ${chips.join(', ')}: ${lineList(ctx)}`);
}

/** 0.2 s of silence, played the way the warning is: a WAV on aplay's stdin. */
function silence(): Buffer {
  return buildWav({ sampleRate: 48_000, channels: 1, bitsPerSample: 16 }, Buffer.alloc(48_000 * 0.2 * 2));
}

export const speakerCheck: Check = async (ctx) => {
  const audio = ctx.config.audio;
  if (audio.driver === 'none') {
    return warn('speaker', 'no speaker (audio.driver none): the warning is not played', 'set audio.driver to alsa');
  }
  if (audio.driver === 'file') {
    try {
      await access(path.dirname(audio.dir), constants.W_OK);
    } catch {
      return fail('speaker', `cannot write ${audio.dir}`, 'make audio.dir writable');
    }
    return pass('speaker', `simulation: what is played goes to ${audio.dir}`);
  }
  const r = await ctx.runner.run(
    { command: 'aplay', args: aplayArgs(audio.device) },
    { input: silence(), timeoutMs: 10_000 },
  );
  if (r.error !== undefined) return fail('speaker', 'aplay is missing', 'apt-get install alsa-utils');
  if (r.code !== 0 || r.timedOut) {
    return fail(
      'speaker',
      `${audio.device} does not play (${r.timedOut ? 'timed out' : lastLine(r.stderr)})`,
      'check the card (aplay -l), audio.device and the amplifier wiring (see the board profile)',
    );
  }
  return pass('speaker', `${audio.device} plays`);
};

export const promptsCheck: Check = async (ctx) => {
  try {
    const clips = await loadWarningClips(ctx.config.warning, ctx.configFile);
    const langs = clips.phrases.map((p) => `${p.language} ${(p.clip.durationMs / 1000).toFixed(1)} s`);
    return pass('prompts', `warning prompts: ${langs.join(', ')}`);
  } catch (e) {
    return fail(
      'prompts',
      (e as Error).message.split('. ')[0] ?? 'unreadable',
      `bodycam prompts --config ${ctx.configFile}`,
    );
  }
};
