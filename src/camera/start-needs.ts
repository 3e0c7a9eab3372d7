/**
 * What the camera needs before it records, gathered at start without ever refusing to start: the warning's prompts
 * (missing languages are a fault: the warning cannot be fully given) and the signing key (made on the spot when
 * missing; unusable, a fault: footage is recorded and sealed, its manifests signed at the next start with a key).
 * Each fault carries its fix; the composition root shows them (LEDs, status) and the journal logs them.
 */
import type { Config } from '../config/schema.ts';
import type { SetupFault } from './events.ts';
import { describeMissingPrompts, loadWarningClips, type WarningClips } from './feedback/prompts.ts';
import { type DeviceIdentity, identityAtStart } from './identity.ts';

export interface StartNeeds {
  /** Null when the warning is disabled. */
  clips: WarningClips | null;
  identity: DeviceIdentity | null;
  /** The camera made its key at this start: its dock has yet to confirm it. */
  keyCreated: boolean;
  faults: SetupFault[];
}

export async function gatherStartNeeds(c: Config, configFile = 'the config file'): Promise<StartNeeds> {
  const faults: SetupFault[] = [];
  const clips = c.warning.enabled ? await loadWarningClips(c.warning) : null;
  if (clips !== null && clips.missing.length > 0) {
    faults.push({ part: 'prompts', ...describeMissingPrompts(clips.missing, configFile) });
  }
  const key = await identityAtStart(c.evidence.keyFile, configFile);
  if (key.fault !== null) faults.push({ part: 'identity', ...key.fault });
  return { clips, identity: key.identity, keyCreated: key.created, faults };
}
