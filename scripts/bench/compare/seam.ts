/**
 * Where a recording's frames sit in the fed stream, and what that says about its pre-roll and its seam. The feed
 * loops a clip of `clipFrames` frames, so a frame's id gives its place in the clip; its place in the whole feed
 * (the global index) is the candidate nearest to where the next frame was, walking back from the last frame, which
 * sits near the frame fed at the stop (the one moment every recorder's file shares whatever its pre-roll did). Pure: the comparison and its unit test call the same functions.
 */

export interface RecordedFrame {
  id: string;
  key: boolean;
  /** Presentation time in the recording, seconds (ffprobe), or null where the container gave none. */
  pts: number | null;
}

export interface SeamReport {
  frames: number;
  /** Frames whose id is not in the clip (damaged or re-encoded). */
  unknown: number;
  /** Frames of the feed missing between the recording's first and last frame. */
  lost: number;
  /** Frames recorded more than once (or out of order). */
  duplicated: number;
  firstIsKeyframe: boolean;
  /** Global index of the first recorded frame, and of the last. */
  first: number;
  last: number;
  /** Pre-roll actually recorded: first frame up to the frame fed at the trigger, by ffprobe's timestamps. */
  prerollSeconds: number;
  /** The same counted in frames of the feed (index of the trigger frame − first + 1). */
  prerollFrames: number;
}

/** Index of a clip position nearest to `near` in the looped feed. */
export function nearestGlobal(position: number, clipFrames: number, near: number): number {
  return position + clipFrames * Math.round((near - position) / clipFrames);
}

/** Global indices of the frames (null for an unknown id), placed from the last frame backwards. */
export function placeFrames(
  ids: readonly string[],
  clip: ReadonlyMap<string, number>,
  clipFrames: number,
  expectedLast: number,
): (number | null)[] {
  let near = expectedLast;
  const placed: (number | null)[] = new Array(ids.length).fill(null);
  for (let i = ids.length - 1; i >= 0; i--) {
    const position = clip.get(ids[i] ?? '');
    if (position === undefined) continue;
    const g = nearestGlobal(position, clipFrames, near);
    placed[i] = g;
    near = g - 1;
  }
  return placed;
}

export function seamReport(
  frames: readonly RecordedFrame[],
  clip: ReadonlyMap<string, number>,
  clipFrames: number,
  trigger: { frame: number; stopFrame: number; fps: number },
): SeamReport {
  const placed = placeFrames(
    frames.map((f) => f.id),
    clip,
    clipFrames,
    trigger.stopFrame,
  );
  let lost = 0;
  let duplicated = 0;
  let highest: number | undefined;
  let first: number | undefined;
  let triggerAt: number | undefined;
  for (const [i, g] of placed.entries()) {
    if (g === null) continue;
    first ??= i;
    if (highest !== undefined) {
      if (g <= highest) duplicated += 1;
      else lost += g - highest - 1;
    }
    if (highest === undefined || g > highest) highest = g;
    if (g <= trigger.frame) triggerAt = i;
  }
  const firstGlobal = first === undefined ? Number.NaN : (placed[first] ?? Number.NaN);
  const firstPts = first === undefined ? null : (frames[first]?.pts ?? null);
  const triggerPts = triggerAt === undefined ? null : (frames[triggerAt]?.pts ?? null);
  const prerollFrames = triggerAt === undefined ? 0 : trigger.frame - firstGlobal + 1;
  const prerollSeconds =
    firstPts !== null && triggerPts !== null ? triggerPts - firstPts + 1 / trigger.fps : prerollFrames / trigger.fps;
  return {
    frames: frames.length,
    unknown: placed.filter((g) => g === null).length,
    lost,
    duplicated,
    firstIsKeyframe: frames[0]?.key === true,
    first: firstGlobal,
    last: highest ?? Number.NaN,
    prerollSeconds,
    prerollFrames,
  };
}
