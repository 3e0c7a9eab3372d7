/** `DEVICE-YYYYMMDDTHHMMSSZ-xxxx`: sortable by time, unique per device, safe as a directory name. */
export function incidentId(deviceId: string, at: Date): string {
  const stamp = at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
  const rand = Math.floor(Math.random() * 0x10000)
    .toString(16)
    .padStart(4, '0');
  return `${deviceId}-${stamp}-${rand}`;
}
