/**
 * Runs under the arm64 Node (qemu-aarch64) against an assembled application directory (scripts/arm64/lib.sh):
 * the runtime is arm64, and the production native modules load and work there. One line per check
 * ("ok NAME: detail" or "FAIL NAME: detail"); exit 1 if any failed.
 *
 * Usage: node scripts/arm64/probe.ts APP_DIR WORK_DIR
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const [appDir, workDir] = process.argv.slice(2);
if (appDir === undefined || workDir === undefined) {
  console.error('usage: probe.ts APP_DIR WORK_DIR');
  process.exit(2);
}
// Resolve packages from the application's node_modules, not from wherever this file sits.
const appRequire = createRequire(path.join(appDir, 'package.json'));
let failed = 0;

async function check(name: string, body: () => string | Promise<string>): Promise<void> {
  try {
    console.log(`ok ${name}: ${await body()}`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

/** The ELF machine field of a shared object (0xb7 = aarch64). */
function elfMachine(file: string): number {
  return readFileSync(file).readUInt16LE(18);
}

await check('runtime', () => {
  assert(process.arch === 'arm64', `process.arch is ${process.arch}`);
  assert(process.platform === 'linux', `process.platform is ${process.platform}`);
  return `Node ${process.version} ${process.platform}/${process.arch}`;
});

interface Statement {
  run(...params: unknown[]): unknown;
  get(...params: unknown[]): unknown;
}
interface SqliteDb {
  pragma(source: string, options?: { simple: boolean }): unknown;
  exec(source: string): void;
  prepare(source: string): Statement;
  close(): void;
}

await check('better-sqlite3', () => {
  const Database = appRequire('better-sqlite3') as new (file: string) => SqliteDb;
  const file = path.join(workDir, 'probe.sqlite');
  const db = new Database(file);
  const mode = db.pragma('journal_mode = WAL', { simple: true });
  assert(mode === 'wal', `journal_mode is ${String(mode)}`);
  db.exec('CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)');
  db.prepare('INSERT INTO t (v) VALUES (?)').run('arm64');
  const row = db.prepare('SELECT v, sqlite_version() AS version FROM t ORDER BY id DESC LIMIT 1').get() as {
    v: string;
    version: string;
  };
  assert(row.v === 'arm64', `read back ${JSON.stringify(row)}`);
  assert(existsSync(`${file}-wal`), 'no -wal file beside the database');
  db.close();
  // The package's exports hide its files: find the prebuilt addon from the application's node_modules.
  const addon = path.join(appDir, 'node_modules/better-sqlite3/prebuilds/linux-arm64.node');
  assert(elfMachine(addon) === 0xb7, `${addon} is not aarch64`);
  return `SQLite ${row.version}, WAL, table written and read back (${path.basename(addon)})`;
});

await check('onoff', () => {
  const epoll = appRequire('epoll') as { Epoll: unknown; path?: string };
  assert(typeof epoll.Epoll === 'function', 'epoll addon exports no Epoll');
  const addon = path.join(appDir, 'node_modules/epoll/build/Release/epoll.node');
  assert(elfMachine(addon) === 0xb7, `${addon} is not aarch64`);
  const { Gpio } = appRequire('onoff') as { Gpio: unknown };
  assert(typeof Gpio === 'function', 'onoff exports no Gpio class');
  const { accessible } = Gpio as unknown as { accessible: boolean };
  // Without /sys/class/gpio onoff still loads; it reports the lines as not accessible.
  return `Gpio loaded with its cross-built epoll addon; Gpio.accessible=${accessible} (no sysfs GPIO here)`;
});

await check('@iiot2k/gpiox', () => {
  const gpiox = appRequire('@iiot2k/gpiox') as Record<string, unknown> & {
    init_gpio(pin: number, mode: number, setval: number): boolean;
    error_text(): string;
  };
  for (const fn of ['watch_gpio', 'set_gpio', 'get_gpio', 'deinit_gpio', 'init_gpio']) {
    assert(typeof gpiox[fn] === 'function', `gpiox has no ${fn}`);
  }
  // With no /dev/gpiochip0 the library loads and its calls fail softly, without crashing the process.
  const opened = gpiox.init_gpio(17, 0, 0);
  return `gpiox_arm64.node loaded; init_gpio(17) without a chip → ${opened} ("${gpiox.error_text()}")`;
});

await check('HAL drivers', async () => {
  const hal = (await import(pathToFileURL(path.join(appDir, 'dist/hal/gpio/index.js')).href)) as {
    createGpioDriver(kind: string): Promise<{ kind: string }>;
  };
  let gpiox: { kind: string };
  try {
    gpiox = await hal.createGpioDriver('gpiox');
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    // No GPIO chip on this host: the driver refuses before claiming a line, naming the chip it would have driven.
    assert(code === 'HAL_GPIO_UNAVAILABLE', `gpiox driver failed with ${String(code)}: ${String(e)}`);
    assert(/would drive/.test(String(e)), `gpiox driver refused without the chip check: ${String(e)}`);
    gpiox = { kind: 'HAL_GPIO_UNAVAILABLE (no header chip here; the arm64 system test drives one)' };
  }
  const sim = await hal.createGpioDriver('sim');
  let onoff: string;
  try {
    onoff = `created ${(await hal.createGpioDriver('onoff')).kind}`;
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    // No sysfs GPIO on this host: the driver says so with the fix, as on a Pi 5.
    assert(code === 'HAL_GPIO_UNAVAILABLE', `onoff driver failed with ${String(code)}: ${String(e)}`);
    onoff = 'HAL_GPIO_UNAVAILABLE (no sysfs GPIO here)';
  }
  return `createGpioDriver: gpiox → ${gpiox.kind}, sim → ${sim.kind}, onoff → ${onoff}`;
});

process.exit(failed === 0 ? 0 : 1);
