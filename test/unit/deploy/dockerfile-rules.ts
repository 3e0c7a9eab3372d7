/**
 * What Dockerfile.arm64 must keep, as a pure function over its text: a list of problems, empty when it is right.
 * Docker cannot build here, so these are the properties a build would not tell us anyway until it ran on a camera.
 */

export interface Instruction {
  keyword: string;
  args: string;
}

export interface Stage {
  from: string;
  name: string | undefined;
  instructions: Instruction[];
}

/** Instructions grouped by stage (FROM), continuation lines joined, comments and blank lines dropped. */
export function parseDockerfile(text: string): { args: Instruction[]; stages: Stage[] } {
  const joined = text.replace(/\\\r?\n/g, ' ');
  const args: Instruction[] = [];
  const stages: Stage[] = [];
  for (const raw of joined.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = /^(\S+)\s*(.*)$/.exec(line);
    if (match === null) continue;
    const instruction = { keyword: (match[1] ?? '').toUpperCase(), args: (match[2] ?? '').replace(/\s+/g, ' ') };
    if (instruction.keyword === 'FROM') {
      const name = / AS (\S+)$/i.exec(instruction.args)?.[1];
      stages.push({ from: instruction.args, name, instructions: [] });
    } else if (stages.length === 0) {
      args.push(instruction);
    } else {
      stages[stages.length - 1]?.instructions.push(instruction);
    }
  }
  return { args, stages };
}

/** The JSON (exec) form of ENTRYPOINT/CMD; undefined for the shell form. */
export function execForm(args: string): string[] | undefined {
  try {
    const value: unknown = JSON.parse(args);
    return Array.isArray(value) && value.every((v) => typeof v === 'string') ? value : undefined;
  } catch {
    return undefined;
  }
}

export interface Expectations {
  /** The Node version the project pins (package-lock.json, `node` devDependency). */
  nodeVersion: string;
  /** The daemon's Node flags (src/lib/memory.ts). */
  daemonNodeFlags: readonly string[];
  /** Debian packages the daemon runs (ffmpeg, aplay, espeak-ng) plus the init. */
  runtimePackages: readonly string[];
  /** Groups the daemon's user needs for its devices. */
  groups: readonly string[];
}

const last = <T>(items: readonly T[]): T | undefined => items[items.length - 1];

export function dockerfileProblems(text: string, want: Expectations): string[] {
  const problems: string[] = [];
  const { args, stages } = parseDockerfile(text);
  if (stages.length < 2) problems.push(`multi-stage: ${stages.length} stage(s)`);
  const nodeArg = args.find((a) => a.keyword === 'ARG' && a.args.startsWith('NODE_VERSION='));
  if (nodeArg?.args !== `NODE_VERSION=${want.nodeVersion}`)
    problems.push(`ARG NODE_VERSION is ${nodeArg?.args ?? 'missing'}, the lock pins ${want.nodeVersion}`);
  for (const stage of stages) {
    if (!/--platform=linux\/arm64\b/.test(stage.from)) problems.push(`FROM ${stage.from}: not --platform=linux/arm64`);
    if (!/bookworm/.test(stage.from)) problems.push(`FROM ${stage.from}: not Debian bookworm`);
  }

  const build = stages[0];
  if (build !== undefined) {
    if (!/node:\$\{NODE_VERSION\}-bookworm/.test(build.from))
      problems.push('build stage: not the node image at NODE_VERSION');
    const runs = build.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args);
    if (!runs.some((r) => /npm (ci|install)\b/.test(r))) problems.push('build stage: no npm ci/install');
    if (!runs.some((r) => /tsc -p tsconfig\.build\.json|npm run build/.test(r))) problems.push('build stage: no build');
    // The tree copied into the runtime must be the pruned one: the last npm step drops the devDependencies.
    const npmSteps = runs.filter((r) => /\bnpm (ci|install|prune)\b/.test(r));
    if (!/npm prune --omit=dev|npm (ci|install) [^&]*--omit=dev/.test(last(npmSteps) ?? ''))
      problems.push('build stage: node_modules not pruned to production (npm prune --omit=dev) after the last install');
  }

  const runtime = last(stages);
  if (runtime !== undefined && runtime !== build) {
    const at = (keyword: string): number => runtime.instructions.findIndex((i) => i.keyword === keyword);
    const runs = runtime.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args);
    if (runs.some((r) => /\bnpm (ci|install)\b(?!.*--omit=dev)/.test(r)))
      problems.push('runtime stage: npm install with devDependencies');
    const installed = runs.flatMap((r) => /apt-get install ([^&]*)/.exec(r)?.[1]?.split(' ') ?? []);
    for (const pkg of want.runtimePackages)
      if (!installed.includes(pkg)) problems.push(`runtime stage: apt package ${pkg} not installed`);
    const copies = runtime.instructions.filter((i) => i.keyword === 'COPY').map((i) => i.args);
    if (!copies.some((c) => /--from=\S+ \S*node_modules /.test(c)))
      problems.push('runtime stage: node_modules not copied from the build stage');
    if (copies.some((c) => /(^| )(\.\/)?(src|test)\/? /.test(c))) problems.push('runtime stage: copies src/ or test/');

    const user = last(runtime.instructions.filter((i) => i.keyword === 'USER'))?.args;
    if (user === undefined || /^(root|0)(:|$)/.test(user)) problems.push(`runtime stage: runs as ${user ?? 'root'}`);
    else {
      const creates = runs.find((r) => new RegExp(`useradd .*\\b${user}$|useradd .*\\b${user} `).test(r));
      const groups = creates === undefined ? undefined : /--groups (\S+)/.exec(creates)?.[1]?.split(',');
      for (const g of want.groups)
        if (!groups?.includes(g)) problems.push(`runtime stage: user ${user} not in group ${g}`);
    }
    if (at('USER') > at('ENTRYPOINT')) problems.push('runtime stage: USER after ENTRYPOINT');

    const entry = runtime.instructions.find((i) => i.keyword === 'ENTRYPOINT');
    const cmd = runtime.instructions.find((i) => i.keyword === 'CMD');
    const argv = [...(execForm(entry?.args ?? '') ?? []), ...(execForm(cmd?.args ?? '') ?? [])];
    if (entry === undefined || execForm(entry.args) === undefined)
      problems.push('runtime stage: no exec-form ENTRYPOINT');
    else if (argv[0] !== '/usr/bin/tini' || argv[1] !== '--') problems.push('runtime stage: tini is not PID 1');
    if (!installed.includes('tini')) problems.push('runtime stage: apt package tini not installed');
    const script = argv.findIndex((a) => a.endsWith('dist/cli/bodycam.js'));
    if (script < 0) problems.push('runtime stage: the entry point does not run dist/cli/bodycam.js');
    else {
      const flags = argv.slice(argv.indexOf('--') + 2, script);
      if (flags.join(' ') !== want.daemonNodeFlags.join(' '))
        problems.push(
          `runtime stage: Node flags [${flags.join(' ')}], the daemon's are [${want.daemonNodeFlags.join(' ')}]`,
        );
      const rest = argv.slice(script + 1);
      if (rest[0] !== 'run' || rest[1] !== '--config' || rest[2] === undefined)
        problems.push(`runtime stage: command is "${rest.join(' ')}", not "run --config FILE"`);
    }
  }
  return problems;
}
