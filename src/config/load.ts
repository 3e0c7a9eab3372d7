import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CONTROL_SOCKET } from '../evidence/paths.ts';
import { BodycamError, ErrorCode } from '../lib/errors.ts';
import { compareVersions, RELEASE, SEMVER } from '../lib/version.ts';
import { type Config, configSchema } from './schema.ts';
import type { Issue } from './schema-kit.ts';

export interface ConfigProblem {
  /** Dotted key, e.g. `preRecord.seconds`; `(root)` for the document itself. */
  key: string;
  message: string;
}

/** Every problem at once, each naming its key and what would fix it. */
export function describeIssues(issues: readonly Issue[]): ConfigProblem[] {
  return issues.map((issue) => ({
    key: issue.path.length > 0 ? issue.path.map(String).join('.') : '(root)',
    message: issue.message,
  }));
}

export type ValidationResult = { ok: true; config: Config } | { ok: false; problems: ConfigProblem[] };

/** Validate a parsed document; relative paths (storage, control socket, prompts, speaker) resolve against `baseDir`. */
export function validateConfig(doc: unknown, baseDir: string): ValidationResult {
  const parsed = configSchema.safeParse(doc);
  if (!parsed.ok) return { ok: false, problems: describeIssues(parsed.issues) };
  const config = parsed.value;
  config.storage.dir = path.resolve(baseDir, config.storage.dir);
  config.warning.promptsDir = path.resolve(baseDir, config.warning.promptsDir);
  config.audio.dir = path.resolve(baseDir, config.audio.dir);
  config.evidence.keyFile = path.resolve(baseDir, config.evidence.keyFile);
  if (config.dock !== undefined) {
    for (const k of ['ca', 'cert', 'key', 'dockKey'] as const) config.dock[k] = path.resolve(baseDir, config.dock[k]);
  }
  if (config.update !== undefined) {
    config.update.root = path.resolve(baseDir, config.update.root);
    config.update.releaseKey = path.resolve(baseDir, config.update.releaseKey);
    if (config.update.configKey !== undefined) config.update.configKey = path.resolve(baseDir, config.update.configKey);
  }
  if (config.control.socket !== undefined) config.control.socket = path.resolve(baseDir, config.control.socket);
  const problems = crossCheck(config);
  return problems.length > 0 ? { ok: false, problems } : { ok: true, config };
}

/** Rules that span keys: named inputs must exist. */
function crossCheck(config: Config): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const inputs = Object.keys(config.gpio.inputs);
  const known = inputs.length > 0 ? inputs.join(', ') : 'none';
  // Own keys only: `in` would also find the names every object inherits (constructor, toString, …).
  const defined = (name: string) => Object.hasOwn(config.gpio.inputs, name);
  if (!defined(config.controls.recordInput)) {
    problems.push({
      key: 'controls.recordInput',
      message: `names input "${config.controls.recordInput}", which gpio.inputs does not define (defined: ${known})`,
    });
  }
  config.controls.triggerInputs.forEach((name, i) => {
    if (!defined(name)) {
      problems.push({
        key: `controls.triggerInputs.${i}`,
        message: `input "${name}" is not in gpio.inputs (defined: ${known})`,
      });
    }
  });
  return problems;
}

/** A configuration file's JSON; text that is not JSON is CONFIG_INVALID at the root. */
export function parseConfigJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new BodycamError(ErrorCode.CONFIG_INVALID, `${file} is not valid JSON: ${(e as Error).message}`, {
      file,
      problems: [{ key: '(root)', message: (e as Error).message }],
    });
  }
}

/** Read, parse and validate a config file; throws CONFIG_UNREADABLE or CONFIG_INVALID listing every problem. */
export function loadConfig(file: string): Config {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new BodycamError(ErrorCode.CONFIG_UNREADABLE, `cannot read config file ${file}: ${(e as Error).message}`, {
      file,
    });
  }
  const doc = parseConfigJson(text, file);
  const result = validateConfig(doc, path.dirname(path.resolve(file)));
  if (!result.ok) {
    const lines = result.problems.map((p) => `  ${p.key}: ${p.message}`).join('\n');
    const newer = newerWriter(doc);
    const downgrade =
      newer === null
        ? ''
        : `\n(written by bodycam ${newer}, newer than this bodycam ${RELEASE}: a downgrade; install ${newer} or later, or rewrite it with \`bodycam provision --force\`)`;
    throw new BodycamError(
      ErrorCode.CONFIG_INVALID,
      `${file} has ${result.problems.length} error(s):\n${lines}${downgrade}`,
      { file, problems: result.problems, ...(newer === null ? {} : { writtenBy: newer }) },
    );
  }
  return result.config;
}

/** The release named in a config document when it is newer than this one (its keys may be unknown here). */
export function newerWriter(doc: unknown): string | null {
  if (typeof doc !== 'object' || doc === null || !('release' in doc)) return null;
  const release = doc.release;
  if (typeof release !== 'string' || !SEMVER.test(release)) return null;
  return compareVersions(release, RELEASE) > 0 ? release : null;
}

export function controlSocketPath(config: Config): string {
  return config.control.socket ?? path.join(config.storage.dir, CONTROL_SOCKET);
}
