/** The broker supervisor under fake time, with a scripted mosquitto and a scripted readiness probe. */
import { describe, expect, it } from 'vitest';
import { type BrokerOptions, MosquittoBroker, restartDelay } from '../../../src/dock/broker.ts';
import { FakeClock } from '../../../src/hal/clock/fake.ts';
import { type ScriptedCall, ScriptedProcesses } from '../../../src/hal/process/scripted.ts';
import { ErrorCode, isBodycamError } from '../../../src/lib/errors.ts';

const CONF = '/srv/dock/broker/mosquitto.conf';
const RUNNING = 'mosquitto version 2.0.11 running\n';

type Behaviour = (call: ScriptedCall, clock: FakeClock) => void;

/** Says it is running and stays up until signalled. */
const healthy: Behaviour = (call) => {
  call.stderr('mosquitto version 2.0.11 starting\n');
  call.stderr(RUNNING);
};

function setup(behaviours: Behaviour[], extra: Partial<BrokerOptions> = {}) {
  const clock = new FakeClock();
  const spawnedAt: number[] = [];
  const probed: string[] = [];
  /** Whether the port accepts once a mosquitto runs; `taken`: something else holds the port already. */
  const state = { accepting: true, taken: false };
  const runner = new ScriptedProcesses({ clock }).define('mosquitto', (call) => {
    spawnedAt.push(clock.now());
    const behave = behaviours[Math.min(spawnedAt.length - 1, behaviours.length - 1)] ?? healthy;
    behave(call, clock);
  });
  const broker = new MosquittoBroker({
    runner,
    clock,
    mosquittoPath: 'mosquitto',
    confFile: CONF,
    bind: '127.0.0.1',
    port: 8883,
    probe: async (host, port) => {
      const up = runner.calls.some((c) => c.running);
      if (up) probed.push(`${host}:${port}`);
      return state.taken || (up && state.accepting);
    },
    findBrokers: async () => [],
    backoff: { initialMs: 1000, maxMs: 8000 },
    ...extra,
  });
  return { clock, runner, broker, spawnedAt, probed, state };
}

/** Settles a promise into a readable state without awaiting it. */
function track<T>(p: Promise<T>): { done: boolean; value?: T; error?: unknown } {
  const t: { done: boolean; value?: T; error?: unknown } = { done: false };
  p.then(
    (v) => Object.assign(t, { done: true, value: v }),
    (e: unknown) => Object.assign(t, { done: true, error: e }),
  );
  return t;
}

/** start() under fake time: mosquitto says it is running at once; the supervisor sees it at its next poll. */
async function startUp(broker: MosquittoBroker, clock: FakeClock): Promise<void> {
  const started = track(broker.start());
  await clock.advance(100);
  if (!started.done || started.error !== undefined) throw new Error(`not started: ${String(started.error)}`);
}

describe('starting', () => {
  it('runs mosquitto -c CONF in its own process group and resolves once it said running and the port accepts', async () => {
    const late: Behaviour = (call, clock) => {
      call.stderr('mosquitto version 2.0.11 starting\n');
      clock.setTimeout(() => call.stderr(RUNNING), 300);
    };
    const { clock, runner, broker, probed } = setup([late]);
    const started = track(broker.start());
    await clock.advance(200);
    expect(started.done).toBe(false);
    expect(probed).toEqual([]);
    await clock.advance(200);
    expect(started).toEqual({ done: true, value: undefined });
    expect(probed).toEqual(['127.0.0.1:8883']);
    expect(runner.calls.map((c) => [c.command, c.args, c.spec.detached, c.spec.dieWithParent])).toEqual([
      ['mosquitto', ['-c', CONF], true, true],
    ]);
    expect(broker.pid).toBe(1000);
    await broker.stop();
  });

  it('rejects quoting what mosquitto said when it exits while starting, and does not restart it', async () => {
    const { clock, runner, broker } = setup([
      (call) => {
        call.stderr('mosquitto version 2.0.11 starting\n');
        call.stderr('Error: Unable to load server key file "/srv/dock/pki/server.key". Check keyfile.\n');
        call.exit(1);
      },
    ]);
    const started = track(broker.start());
    await clock.advance(100);
    expect(isBodycamError(started.error, ErrorCode.CONFIG_INVALID)).toBe(true);
    expect((started.error as Error).message).toMatch(/exited with code 1.*\n.*Unable to load server key file/s);
    await clock.advance(60_000);
    expect(runner.calls).toHaveLength(1);
    expect(broker.pid).toBeUndefined();
  });

  it('rejects when the port does not accept in time, and stops the process', async () => {
    const { clock, runner, broker, state } = setup([healthy], { startTimeoutMs: 2000 });
    state.accepting = false;
    const started = track(broker.start());
    await clock.advance(1900);
    expect(started.done).toBe(false);
    await clock.advance(200);
    expect((started.error as Error).message).toContain('not accepting connections on 127.0.0.1:8883 in time');
    expect(runner.calls[0]?.signals).toEqual(['SIGTERM']);
    expect(runner.calls[0]?.running).toBe(false);
  });

  it('rejects when mosquitto cannot be started at all', async () => {
    const { clock, broker } = setup([], { mosquittoPath: '/nowhere/mosquitto' });
    const started = track(broker.start());
    await clock.advance(10);
    expect((started.error as Error).message).toMatch(/could not be started \(spawn \/nowhere\/mosquitto ENOENT\)/);
  });

  it('refuses to start on a port a broker of this dock left running holds, naming its pid and the fix', async () => {
    const { clock, runner, broker, state } = setup([healthy], {
      findBrokers: async (conf) => (conf === CONF ? [4242] : []),
    });
    state.taken = true;
    const started = track(broker.start());
    await clock.advance(10);
    expect(isBodycamError(started.error, ErrorCode.CONFIG_INVALID)).toBe(true);
    expect((started.error as Error).message).toBe(
      "cannot start the dock's broker: 127.0.0.1:8883 is already in use; a mosquitto of this dock is still running " +
        `(pid 4242, -c ${CONF}), left by a dock that was killed: stop it (\`kill 4242\`), then start the dock again`,
    );
    expect(runner.calls).toHaveLength(0);
  });

  it('names another program holding the port', async () => {
    const { clock, broker, state } = setup([healthy]);
    state.taken = true;
    const started = track(broker.start());
    await clock.advance(10);
    expect((started.error as Error).message).toMatch(/already in use; another program listens there/);
  });

  it('probes loopback when the broker listens on every address', async () => {
    const { clock, broker, probed } = setup([healthy], { bind: '0.0.0.0' });
    await startUp(broker, clock);
    expect(probed).toEqual(['127.0.0.1:8883']);
    await broker.stop();
  });
});

describe('supervision', () => {
  const crash: Behaviour = (call) => {
    call.stderr('Error: Address already in use\n');
    call.exit(1);
  };

  it('restarts after an unexpected exit with exponential backoff, until it is up again', async () => {
    const delays: number[] = [];
    const logger = {
      info: () => {},
      warn: (o: { restartInMs?: number }) => (o.restartInMs === undefined ? 0 : delays.push(o.restartInMs)),
    };
    const { clock, broker, spawnedAt } = setup([healthy, crash, crash, healthy], { logger: logger as never });
    await startUp(broker, clock);
    await expect(broker.whenReady()).resolves.toBeUndefined();
    broker.kill('SIGKILL');
    const again = track(broker.whenReady());
    await clock.advance(999);
    expect(spawnedAt).toEqual([0]);
    await clock.advance(20_000);
    expect(delays).toEqual([1000, 2000, 4000]);
    // killed at 100 (start() took one poll); each crash is seen at the restarted broker's first poll
    expect(spawnedAt).toEqual([0, 1100, 3200, 7300]);
    expect(again.done).toBe(true);
    expect(broker.restarts).toBe(3);
    await broker.stop();
  });

  it('starts the backoff over once the broker has stayed up', async () => {
    const { clock, broker, spawnedAt } = setup([healthy], { stableMs: 60_000 });
    await startUp(broker, clock);
    broker.kill('SIGKILL');
    await clock.advance(1000); // restart 1 after 1 s
    broker.kill('SIGKILL');
    await clock.advance(2000); // restart 2 after 2 s: it had not stayed up
    await clock.advance(60_000);
    broker.kill('SIGKILL');
    await clock.advance(1000); // up a minute: 1 s again
    expect(spawnedAt).toEqual([0, 1100, 3100, 64_100]); // start() took one 100 ms poll
    await broker.stop();
  });

  it('stop() sends SIGTERM, then SIGKILL after the grace period, and nothing restarts it', async () => {
    const stubborn: Behaviour = (call) => {
      healthy(call, new FakeClock());
      call.onKill = (signal) => {
        if (signal === 'SIGKILL') call.exitBySignal(signal);
      };
    };
    const { clock, runner, broker } = setup([stubborn], { stopGraceMs: 5000 });
    await startUp(broker, clock);
    const stopped = track(broker.stop());
    await clock.advance(4999);
    expect(stopped.done).toBe(false);
    await clock.advance(1);
    expect(stopped.done).toBe(true);
    expect(runner.calls[0]?.signals).toEqual(['SIGTERM', 'SIGKILL']);
    await clock.advance(120_000);
    expect(runner.calls).toHaveLength(1);
  });

  it('stop() during a pending restart cancels it and fails whoever waits for the broker', async () => {
    const { clock, runner, broker } = setup([healthy]);
    await startUp(broker, clock);
    broker.kill('SIGKILL');
    await clock.advance(10);
    const waiting = track(broker.whenReady());
    await broker.stop();
    await clock.advance(60_000);
    expect(runner.calls).toHaveLength(1);
    expect((waiting.error as Error).message).toContain('stopped');
  });
});

describe('restart delay', () => {
  it.each([
    [0, 1000],
    [1, 2000],
    [2, 4000],
    [5, 32_000],
    [6, 60_000],
    [100, 60_000],
  ])('attempt %i waits %i ms', (attempt, ms) => {
    expect(restartDelay(attempt, { initialMs: 1000, maxMs: 60_000 })).toBe(ms);
  });
});
