import net from 'node:net';
import { BodycamError, ErrorCode } from '../../lib/errors.ts';
import type { ControlRequest, ControlResponse } from './protocol.ts';

/** Send one request to a running daemon and return its result; errors name the socket and the fix. */
export async function controlRequest(socketPath: string, req: ControlRequest, timeoutMs = 120_000): Promise<unknown> {
  const response = await new Promise<ControlResponse>((resolve, reject) => {
    const socket = net.createConnection(socketPath);
    let buffer = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new BodycamError(ErrorCode.CONTROL_UNREACHABLE, `no answer from the daemon on ${socketPath}`));
    }, timeoutMs);
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(`${JSON.stringify(req)}\n`));
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      const nl = buffer.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      socket.end();
      try {
        resolve(JSON.parse(buffer.slice(0, nl)) as ControlResponse);
      } catch {
        reject(new BodycamError(ErrorCode.CONTROL_REJECTED, 'the daemon answered with something that is not JSON'));
      }
    });
    socket.on('error', (e) => {
      clearTimeout(timer);
      reject(
        new BodycamError(
          ErrorCode.CONTROL_UNREACHABLE,
          `cannot reach the daemon on ${socketPath} (${(e as NodeJS.ErrnoException).code ?? e.message}); is \`bodycam run\` running with this config?`,
        ),
      );
    });
  });
  if (!response.ok) throw new BodycamError(ErrorCode.CONTROL_REJECTED, response.error, { code: response.code });
  return response.result;
}
