/**
 * Fixes that fit the board doctor checks: a Pi 4 is never told it may be a Pi 5, and a Pi 5 gets the step that
 * works on a Pi 5. Pure functions of the board's profile (what `provision` would have written for it) and what was
 * found, so each case is a row in a table test.
 */
import { type BoardMap, knownBoards, loadBoard } from '../../config/boards.ts';

/** The profile of a config's `device.board`, or null for a board without one. */
export function boardProfile(board: string): BoardMap | null {
  return knownBoards().includes(board) ? loadBoard(board) : null;
}

/** The board's name as people say it: its description up to the first comma or parenthesis. */
const name = (b: BoardMap | null, fallback: string) =>
  b === null ? fallback : (b.description.split(/[,(]/)[0] ?? b.board).trim();

/** h264_v4l2m2m is configured but the hardware encoder's device (/dev/video11) is not there. */
export function missingHardwareEncoderFix(b: BoardMap | null): string {
  if (b !== null && b.encoder === 'libx264') {
    return `the ${name(b, '')} has no H.264 hardware encoder: set capture.source.encoder to libx264 (what \`bodycam provision --board ${b.board}\` writes)`;
  }
  if (b !== null) {
    return (
      `the ${name(b, '')}'s hardware encoder (bcm2835-codec) should appear as /dev/video11: update Raspberry Pi OS ` +
      '(apt full-upgrade), reboot and check `dmesg | grep -i codec`; until then capture.source.encoder libx264 ' +
      'records in software (more CPU)'
    );
  }
  return 'this board shows no hardware H.264 encoder (/dev/video11): set capture.source.encoder to libx264';
}

/** The sysfs driver (onoff) finds no writable /sys/class/gpio/export. */
export function sysfsGpioFix(b: BoardMap | null, sysfsExists: boolean, user: string): string {
  if (b !== null && b.gpioDriver === 'gpiox') {
    return `the ${name(b, '')}'s header is on its RP1 chip, which the sysfs driver does not serve: set gpio.driver to gpiox (what \`bodycam provision --board ${b.board}\` writes)`;
  }
  if (!sysfsExists) {
    return 'this kernel has no GPIO sysfs (/sys/class/gpio): Raspberry Pi OS has it; elsewhere enable CONFIG_GPIO_SYSFS';
  }
  return (
    `${user} must be in group gpio (the package adds its user: check \`id bodycam\`) and /sys/class/gpio must ` +
    "belong to that group (Raspberry Pi OS's udev rule, which the package installs where missing: " +
    '`udevadm trigger --subsystem-match=gpio`, or reboot)'
  );
}

/** The character-device driver (gpiox) finds no /dev/gpiochip*. */
export function noGpioChipFix(b: BoardMap | null): string {
  if (b !== null && b.gpioDriver !== 'gpiox') {
    return `gpio.driver gpiox is for the Pi 5; a ${name(b, b.board)} uses onoff (what \`bodycam provision --board ${b.board}\` writes)`;
  }
  return (
    "the kernel shows no GPIO character device: Raspberry Pi OS's kernel has it (CONFIG_GPIO_CDEV); update it " +
    '(apt full-upgrade) and reboot'
  );
}

/** A /dev/gpiochip* the camera's user cannot open for reading and writing. */
export function gpioChipAccessFix(user: string): string {
  return (
    `${user} must be in group gpio (check \`id bodycam\`) and /dev/gpiochip* must belong to it with mode 660: the ` +
    "package's udev rule (/lib/udev/rules.d/60-bodycam-gpio.rules) does that; run " +
    '`udevadm trigger --subsystem-match=gpio` or reboot'
  );
}
