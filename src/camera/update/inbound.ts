/**
 * An update message from the dock (`down/update`: an offer; `down/update-part`: a piece of the bundle), checked and
 * handed to the updater; anything else about it is refused with a reason for the log. The sync link routes these here
 * straight away: pieces must not wait behind the chunks of a transfer.
 */
import { checkUpdateOffer, checkUpdatePartHeader } from '../../protocol/checks.ts';
import { parseTopic } from '../../protocol/topics.ts';
import type { InboundMessage } from '../../protocol/transport/port.ts';
import type { Updater } from './updater.ts';

export function takeUpdateMessage(
  m: InboundMessage,
  device: string,
  updater: Updater | undefined,
  reject: (topic: string, reason: string) => void,
): void {
  const t = parseTopic(m.topic);
  if (t === null || t.device !== device || t.dir !== 'down') return;
  if (updater === undefined) {
    reject(m.topic, 'this camera takes no updates (no update section in its config)');
    return;
  }
  if (t.type === 'update') {
    const o = checkUpdateOffer(m.payload);
    if ('error' in o) reject(m.topic, o.error);
    else updater.offer(o.ok);
    return;
  }
  const h = checkUpdatePartHeader(m.headers);
  if ('error' in h) reject(m.topic, h.error);
  else updater.part(h.ok, m.payload);
}
