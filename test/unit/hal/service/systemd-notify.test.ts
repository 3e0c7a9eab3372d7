/** The notify messages the camera and the dock share: in order through systemd-notify, nothing outside systemd. */

import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ScriptedProcesses } from '../../../../src/hal/process/scripted.ts';
import { SdNotifier } from '../../../../src/hal/service/systemd-notify.ts';
import { createLogger, silentLogger } from '../../../../src/lib/logger.ts';

describe('SdNotifier', () => {
  it('sends each message through systemd-notify, one call each, in order', async () => {
    const processes = new ScriptedProcesses().define('systemd-notify', (call) => call.exit(0));
    const notify = new SdNotifier({ processes, logger: silentLogger(), env: { NOTIFY_SOCKET: '/run/systemd/notify' } });
    expect(notify.enabled).toBe(true);
    notify.send('READY=1', 'STATUS=receiving footage');
    notify.send('STOPPING=1');
    await notify.flush();
    expect(processes.callsOf('systemd-notify').map((c) => c.args)).toEqual([
      ['READY=1', 'STATUS=receiving footage'],
      ['STOPPING=1'],
    ]);
    // The socket is handed to systemd-notify explicitly: the runner keeps it from every other child.
    expect(processes.callsOf('systemd-notify').map((c) => c.spec.env)).toEqual([
      { NOTIFY_SOCKET: '/run/systemd/notify' },
      { NOTIFY_SOCKET: '/run/systemd/notify' },
    ]);
  });

  it('sends nothing outside systemd', async () => {
    const processes = new ScriptedProcesses().define('systemd-notify', (call) => call.exit(0));
    const notify = new SdNotifier({ processes, logger: silentLogger(), env: {} });
    expect(notify.enabled).toBe(false);
    notify.send('READY=1');
    await notify.flush();
    expect(processes.callsOf('systemd-notify')).toEqual([]);
  });

  it('logs a failing systemd-notify and goes on with the next message', async () => {
    let n = 0;
    const processes = new ScriptedProcesses().define('systemd-notify', (call) => {
      n += 1;
      if (n === 1) call.stderr('No such file or directory\n');
      call.exit(n === 1 ? 1 : 0);
    });
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const logger = createLogger('warn', sink);
    const notify = new SdNotifier({ processes, logger, env: { NOTIFY_SOCKET: '@notify' } });
    notify.send('READY=1');
    notify.send('STOPPING=1');
    await notify.flush();
    expect(processes.callsOf('systemd-notify')).toHaveLength(2);
    expect(lines.join('')).toContain('systemd-notify failed');
  });
});
