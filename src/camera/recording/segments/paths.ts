/** Where a segment's files live while it is written and after: `<final>.partial`, `<final>.tail`, `<final>`. */
export function partialPath(path: string): string {
  return `${path}.partial`;
}
export function tailPath(path: string): string {
  return `${path}.tail`;
}
export function tailTmpPath(path: string): string {
  return `${path}.tail.tmp`;
}

/** A segment's path relative to the storage directory: `footage/<incident>/<NNNN>.mp4.age`. */
export function segmentRelativePath(incidentId: string, seq: number): string {
  return `footage/${incidentId}/${String(seq).padStart(4, '0')}.mp4.age`;
}
