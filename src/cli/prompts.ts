import { generatePrompts } from '../camera/feedback/prompts.ts';
import { loadConfig } from '../config/load.ts';
import { NodeProcessRunner } from '../hal/process/node.ts';

/** `bodycam prompts`: writes the missing warning prompts (all with --force) and lists what it did. */
export async function promptsCommand(configFile: string, force: boolean): Promise<void> {
  const config = loadConfig(configFile);
  const { written, kept } = await generatePrompts(new NodeProcessRunner(), config.warning, { force });
  for (const f of written) process.stdout.write(`wrote ${f}\n`);
  for (const f of kept) process.stdout.write(`kept  ${f} (exists; --force replaces it)\n`);
}
