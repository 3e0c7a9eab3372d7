/**
 * What "healthy" means after an update (docs/design.md, "Updates through the dock"): capture delivering into the
 * pre-record buffer, the evidence signing key readable, the dock reachable. A release that cannot show all three
 * within `update.healthSeconds` goes back to the previous one by itself.
 */

/**
 * The part of the camera's status (status.ts `CameraStatus`) a health probe reads; its own shape, so that the updater
 * does not import the status module (which reads the sync link, which holds the updater).
 */
export interface HealthView {
  identity: unknown;
  capture: { fragments: number };
  sync: { connected: boolean } | null;
}

/** What keeps the camera from being called healthy now (null: nothing); `before` is the previous probe's status. */
export function healthProblem(now: HealthView, before: HealthView | null): string | null {
  if (now.identity === null) return 'the evidence signing key is not readable';
  if (now.capture.fragments === 0 || (before !== null && now.capture.fragments <= before.capture.fragments)) {
    return 'capture is not delivering into the buffer';
  }
  if (now.sync === null || !now.sync.connected) return 'the dock is not reachable';
  return null;
}
