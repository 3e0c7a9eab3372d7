import { controlRequest } from '../camera/control/client.ts';
import { controlSocketPath, loadConfig } from '../config/load.ts';

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
