import { controlRequest } from '../camera/control/client.ts';
import { controlSocketPath, loadConfig } from '../config/load.ts';
import { BodycamError, ErrorCode } from '../lib/errors.ts';

export async function ctlStatus(configFile: string): Promise<void> {
  const socket = controlSocketPath(loadConfig(configFile));
  const result = await controlRequest(socket, { cmd: 'status' });
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

export async function ctlPress(configFile: string, input: string, count: number, holdMs: number): Promise<void> {
  const socket = controlSocketPath(loadConfig(configFile));
  const result = await controlRequest(socket, { cmd: 'press', input, count, holdMs }, holdMs + count * 1000 + 30_000);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

export async function ctlEvents(configFile: string, json: boolean, limit: number): Promise<void> {
  const socket = controlSocketPath(loadConfig(configFile));
  const result = (await controlRequest(socket, { cmd: 'events', limit })) as {
    events: Array<{ at: string; kind: string; incidentId: string | null; data: Record<string, unknown> }>;
  };
  if (json) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  for (const e of result.events) {
    process.stdout.write(
      `${e.at}  ${e.kind}${e.incidentId === null ? '' : `  ${e.incidentId}`}  ${JSON.stringify(e.data)}\n`,
    );
  }
}

/** Holds a level input (the dock-sense line, say) of a sim camera: `on`/`off`, `1`/`0`, `high`/`low`. */
export async function ctlSet(configFile: string, input: string, level: string): Promise<void> {
  const on = ['on', '1', 'high', 'true'].includes(level);
  if (!on && !['off', '0', 'low', 'false'].includes(level)) {
    throw new BodycamError(ErrorCode.USAGE, `level must be on or off (1/0, high/low), got ${level}`);
  }
  const socket = controlSocketPath(loadConfig(configFile));
  process.stdout.write(`${JSON.stringify(await controlRequest(socket, { cmd: 'set', input, level: on }))}\n`);
}
