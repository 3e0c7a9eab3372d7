/** Device checks: the GPIO lines of the board, the speaker, and the warning prompts it plays. */
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { describeMissingPrompts, loadWarningClips, promptFile } from '../../camera/feedback/prompts.ts';
import { aplayArgs } from '../../hal/audio/alsa.ts';
import { buildWav } from '../../hal/audio/wav.ts';
import { headerChipBase, readGpioChips, SYSFS_GPIO_ROOT } from '../../hal/gpio/onoff.ts';
import { R, reachProblem, W, whoRuns } from './access.ts';
import { boardProfile, gpioChipAccessFix, noGpioChipFix, sysfsGpioFix } from './board-fixes.ts';
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
  const board = boardProfile(ctx.config.device.board);
  if (driver === 'onoff') {
    const root = path.join(ctx.root, SYSFS_GPIO_ROOT);
    const problem = await reachProblem(ctx, path.join(root, 'export'), W);
    if (problem !== null) {
      return fail(
        'gpio',
        `no GPIO sysfs at ${root}/export the camera can write (${problem})`,
        sysfsGpioFix(board, existsSync(root), whoRuns(ctx)),
      );
    }
    const base = headerChipBase(await readGpioChips(root));
    return pass('gpio', `sysfs GPIO, header chip base ${base}: ${lineList(ctx)}`);
  }
  const dev = path.join(ctx.root, '/dev');
  const chips = (await readdir(dev).catch(() => [])).filter((f) => /^gpiochip\d+$/.test(f));
  if (chips.length === 0) {
    return fail('gpio', `no GPIO character device (${dev}/gpiochip*)`, noGpioChipFix(board));
  }
  for (const chip of chips) {
    const problem = await reachProblem(ctx, path.join(dev, chip), R | W);
    if (problem !== null) return fail('gpio', `${dev}/${chip}: ${problem}`, gpioChipAccessFix(whoRuns(ctx)));
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
    const problem = await reachProblem(ctx, path.dirname(audio.dir), W);
    if (problem !== null) return fail('speaker', `cannot write ${audio.dir} (${problem})`, 'make audio.dir writable');
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
  if (!ctx.config.warning.enabled) {
    return warn('prompts', 'the spoken warning is disabled (warning.enabled false)', 'set warning.enabled to true');
  }
  const clips = await loadWarningClips(ctx.config.warning);
  if (clips.missing.length > 0) {
    const { message } = describeMissingPrompts(clips.missing, ctx.configFile);
    const espeak = await ctx.runner.run({ command: 'espeak-ng', args: ['--version'] }, { timeoutMs: 10_000 });
    const fix =
      espeak.error !== undefined
        ? `apt-get install espeak-ng, then bodycam prompts --config ${ctx.configFile}`
        : `bodycam prompts --config ${ctx.configFile}`;
    return fail('prompts', `${message}: the camera records but cannot give the warning in those languages`, fix);
  }
  for (const p of clips.phrases) {
    const file = promptFile(ctx.config.warning.promptsDir, p.language);
    const problem = await reachProblem(ctx, file, R);
    if (problem !== null)
      return fail('prompts', `${problem}: the warning cannot be given`, `bodycam upgrade --config ${ctx.configFile}`);
  }
  const langs = clips.phrases.map((p) => `${p.language} ${(p.clip.durationMs / 1000).toFixed(1)} s`);
  return pass('prompts', `warning prompts: ${langs.join(', ')}`);
};
