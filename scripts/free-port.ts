/**
 * A TCP port on 127.0.0.1 that nothing listens on right now, for a server started a moment later (Mosquitto, the
 * Ceph daemons). Chosen below the kernel's ephemeral range (`net.ipv4.ip_local_port_range`), because a port from
 * `listen(0)` comes from that range, which every outgoing connection on the machine also draws its source port
 * from: between the check and the server's bind, a client elsewhere took such a port (a dock test failed with
 * "already in use"). Below it only another listener can take it, and that one would be seen by the check.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

const LOWEST = 10_000;

function ephemeralStart(): number {
  try {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    return low !== undefined && Number.isInteger(low) && low > LOWEST + 1000 ? low : 32_768;
  } catch {
    return 32_768;
  }
}

function listenable(port: number): Promise<boolean> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

export async function freePort(): Promise<number> {
  const high = ephemeralStart();
  for (let i = 0; i < 200; i++) {
    const port = LOWEST + Math.floor(Math.random() * (high - LOWEST));
    if (await listenable(port)) return port;
  }
  throw new Error(`no free port on 127.0.0.1 between ${LOWEST} and ${high - 1}`);
}
