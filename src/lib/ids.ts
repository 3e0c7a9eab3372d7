/**
 * The identifiers every program and the evidence format share: a device id names a camera's incidents, its MQTT
 * topics, its certificate and its directory at a dock; an incident id is `<device>-<UTC stamp>-<4 hex>`.
 */

/**
 * A device identity: letters, digits, `-` and `_`, at most 64, starting with a letter or digit; never `dock` in any
 * case (the dock agent's certificate name, which the broker's ACL gives the whole topic tree).
 */
export const DEVICE_ID = /^(?![dD][oO][cC][kK]$)[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** `DEVICE-YYYYMMDDTHHMMSSZ-xxxx`, as the recorder names incidents: sortable by time, safe as a directory name. */
export const INCIDENT_ID = /^([A-Za-z0-9][A-Za-z0-9_-]{0,63})-(\d{8}T\d{6}Z)-([0-9a-f]{4})$/;

/** Whether `id` is an incident id of `device` (its device part is exactly `device`). */
export function isIncidentOf(id: string, device: string): boolean {
  return INCIDENT_ID.test(id) && id.length === device.length + 22 && id.startsWith(`${device}-`);
}
