import { createDeviceIdentity } from '../camera/identity.ts';
import { loadConfig } from '../config/load.ts';

/** `bodycam identity`: the device's signing key for a camera that has none (an upgrade from 0.1.0). */
export async function identityCommand(configFile: string): Promise<void> {
  const config = loadConfig(configFile);
  const { keyId, publicFile } = await createDeviceIdentity(config.evidence.keyFile);
  process.stdout.write(`${keyId} ${publicFile}\n`);
}
