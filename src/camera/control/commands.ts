import type { SimGpio } from '../../hal/gpio/sim.ts';
import { BodycamError, ErrorCode } from '../../lib/errors.ts';
import type { ControlRequest } from './protocol.ts';

export interface ControlTargets {
  status: () => unknown;
  /** The newest `limit` entries of the event log, oldest first. */
  events: (limit: number) => unknown[];
  /** The simulated GPIO when the camera runs on the sim driver, else null (press is refused). */
  sim: SimGpio | null;
  gpioKind: string;
}

/** What each control request does. */
export function controlHandler(t: ControlTargets): (req: ControlRequest) => Promise<unknown> {
  return async (req) => {
    switch (req.cmd) {
      case 'status':
        return t.status();
      case 'set': {
        if (t.sim === null) {
          throw new BodycamError(
            ErrorCode.CONTROL_REJECTED,
            `set works only with gpio.driver "sim" (this camera uses "${t.gpioKind}")`,
          );
        }
        t.sim.set(req.input, req.level);
        return { input: req.input, level: req.level };
      }
      case 'events':
        return { events: t.events(req.limit) };
      case 'press': {
        if (t.sim === null) {
          throw new BodycamError(
            ErrorCode.CONTROL_REJECTED,
            `press works only with gpio.driver "sim" (this camera uses "${t.gpioKind}")`,
          );
        }
        await t.sim.press(req.input, req.holdMs > 0 ? { count: req.count, holdMs: req.holdMs } : { count: req.count });
        return { pressed: req.input, count: req.count, holdMs: req.holdMs };
      }
      default: {
        const never: never = req;
        return never;
      }
    }
  };
}
