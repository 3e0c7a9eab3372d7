#!/bin/sh
# System test guest, step 2: run by bodycam-system-check.service once the machine reached multi-user. It exercises
# the installed package the way a technician and systemd would and prints what it finds on the serial console, one
# `SYSCHECK <uptime> <name> <value>` line per fact; the test on the host judges them. Then it powers off.
# Scenario (/etc/bodycam-system/scenario): `fresh` provisions a sim camera on a fresh install, records, wedges the
# capture for the watchdog, takes releases from the release root as the updater leaves them (a good one proves
# healthy after the restart, one broken at its entry is put back by the start guard), runs the dock and purges the
# package; `upgrade` checks a camera recorded by 0.1.0 that
# the package upgraded in place.
exec >/dev/ttyS0 2>&1
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
. /etc/bodycam-system/scenario
cfg=/etc/bodycam/config.json
node=/opt/bodycam/node/bin/node

cs() { cut -d' ' -f1 /proc/uptime | tr -d .; }
S() { printf 'SYSCHECK %s %s %s\n' "$(cut -d' ' -f1 /proc/uptime)" "$1" "$(printf '%s' "$2" | tr '\n' '|')"; }
# A unit's state, always in this order (systemctl show prints properties in its own order, whatever is asked).
unit() {
  for p in ActiveState SubState Result NRestarts MainPID StatusText; do
    printf '%s=%s ' "$p" "$(systemctl show "$1" -p "$p" --value)"
  done
}
camera_state() { bodycam ctl --config "$cfg" status 2>/dev/null | sed -n 's/^{"state":"\([a-z]*\)".*/\1/p'; }
wait_state() {
  n=$2
  while [ "$n" -gt 0 ]; do
    [ "$(camera_state)" = "$1" ] && return 0
    sleep 1
    n=$((n - 1))
  done
  return 1
}
wait_active() {
  n=$2
  while [ "$n" -gt 0 ]; do
    [ "$(systemctl show "$1" -p ActiveState --value)" = active ] && return 0
    sleep 1
    n=$((n - 1))
  done
  return 1
}
decrypt_all() {
  ok=0
  bad=0
  for seg in $(find /var/lib/bodycam/footage -name '*.mp4.age' | sort); do
    if age -d -i "$1" -o /root/seg.mp4 "$seg" && [ -n "$(ffprobe -v error -select_streams v -show_entries stream=codec_name -of csv=p=0 /root/seg.mp4)" ]; then
      ok=$((ok + 1))
    else
      bad=$((bad + 1))
    fi
  done
  echo "ok=$ok failed=$bad"
}

S booted "multi-user after $(($(systemctl show multi-user.target -p ActiveEnterTimestampMonotonic --value) / 1000000)) s"
# While the checks run: every 30 s, what systemd is doing and where the camera is (a slow boot shows where it waits).
(while sleep 30; do S heartbeat "jobs=[$(systemctl list-jobs --no-legend 2>&1 | head -n 3)] camera=[$(unit bodycam.service)] said=[$(journalctl -u bodycam.service -n 40 -o cat --no-pager 2>&1 | grep -v -e "^Start" -e "^Stopp" -e "^bodycam.service: " | tail -n 3 | cut -c1-600)] load=$(cut -d' ' -f1-3 /proc/loadavg)"; done) &
S version "$(bodycam --version 2>&1)"
S user "$(id bodycam 2>&1)"
S files "bin=$(readlink /usr/bin/bodycam) unit=$(systemctl is-enabled bodycam.service) dock=$(systemctl is-enabled bodycam-dock.service) udev=$(ls /lib/udev/rules.d/60-bodycam-gpio.rules)"

if [ "$SCENARIO" = fresh ]; then
  S unprovisioned "$(unit bodycam.service)"
  bodycam keygen --out /root/custodian.key >/root/recipient 2>/dev/null
  t0=$(cs)
  bodycam provision --board sim --device-id sys-cam --recipient "$(cat /root/recipient)" --dir /etc/bodycam \
    --storage /var/lib/bodycam >/root/provision.out 2>&1
  S provision "exit=$? $(cat /root/provision.out)"
  # Emulation is ~30x slower than a Pi: small frames; the sim speaker in the unit's private /tmp; an ffmpeg that
  # wedges for good once /run/bodycam-wedge exists (as a dead camera does).
  "$node" -e '
    const fs = require("node:fs"); const f = process.argv[1]; const c = JSON.parse(fs.readFileSync(f, "utf8"));
    c.capture.source = { kind: "synthetic", width: 320, height: 240, fps: 10, videoBitrateKbps: 300 };
    c.capture.ffmpegPath = "/usr/local/bin/wedging-ffmpeg"; c.preRecord.seconds = 3; c.recording.segmentSeconds = 10;
    c.audio = { driver: "file", dir: "/tmp/speaker" };
    fs.writeFileSync(f, JSON.stringify(c, null, 2));
  ' "$cfg"
  S owners "key=$(stat -c '%U:%G %a' /etc/bodycam/identity/device.key) identity=$(stat -c '%U %a' /etc/bodycam/identity) storage=$(stat -c '%U %a' /var/lib/bodycam) config=$(stat -c '%U:%G %a' "$cfg")"
  S doctor "$(bodycam doctor --config "$cfg" --json 2>&1 | tr -d '\n')"
  systemctl start bodycam.service
  S started "exit=$? after=$((($(cs) - t0) / 100)) $(unit bodycam.service)"
  pid=$(systemctl show bodycam -p MainPID --value)
  S mainuser "$(ps -o user= -p "$pid")"
  wait_state buffering 120
  S status "$(bodycam ctl --config "$cfg" status 2>&1)"
  bodycam ctl --config "$cfg" press record --count 2 >/dev/null 2>&1
  wait_state recording 120
  S recording "$(bodycam ctl --config "$cfg" status 2>&1)"
  sleep 6
  bodycam ctl --config "$cfg" press record --hold 3500 >/dev/null 2>&1
  wait_state buffering 120
  S list "$(bodycam list --config "$cfg" --json 2>&1 | tr -d '\n')"
  S decrypt "$(decrypt_all /root/custodian.key)"

  # The watchdog: the capture wedges for good; systemd must restart the camera.
  t0=$(cs)
  touch /run/bodycam-wedge
  for ff in $(pgrep -P "$pid"); do kill -STOP "$ff"; done
  n=300
  while [ "$n" -gt 0 ]; do
    [ "$(systemctl show bodycam -p NRestarts --value)" -ge 1 ] 2>/dev/null && break
    r=$(systemctl show bodycam -p Result --value)
    [ "$r" = watchdog ] && S wedged "$(unit bodycam.service)"
    sleep 0.5
    n=$((n - 1))
  done
  S watchdog "after=$((($(cs) - t0) / 100)) $(unit bodycam.service)"
  S journal "$(journalctl -u bodycam.service -o cat --no-pager | grep -E "Watchdog timeout|Failed with result|Scheduled restart" | tail -n 4)"
  rm -f /run/bodycam-wedge
  wait_active bodycam.service 600
  S restarted "$(unit bodycam.service)"

  # The dock: set up as root, run by systemd as the service user, with its broker; the camera enrolled at it.
  bodycam dock init --dir /var/lib/bodycam-dock --host localhost --bind 127.0.0.1 --port 8883 >/root/dock.out 2>&1
  S dockinit "exit=$? $(tail -n 3 /root/dock.out)"
  systemctl start bodycam-dock.service
  S dockunit "exit=$? $(unit bodycam-dock.service)"
  dpid=$(systemctl show bodycam-dock -p MainPID --value)
  S dockuser "$(ps -o user= -p "$dpid")"
  S dockbroker "$(ps -o user=,args= --ppid "$dpid" 2>&1; ps -o user=,args= -C mosquitto 2>&1)"
  S dockport "$(ss -ltnH 'sport = :8883' 2>&1)"
  bodycam dock enroll --dir /var/lib/bodycam-dock --device-config "$cfg" >/root/enroll.out 2>&1
  S enroll "exit=$? $(cat /root/enroll.out)"
  chown -R bodycam:bodycam /etc/bodycam/dock

  # Updates through the dock, on systemd: a release key provisioned, so the release root /var/lib/bodycam-update is
  # used (a trial proves health docked: capture, key, dock link). Each release is packed with `bodycam bundle pack`
  # and put in place by the updater's own functions from the package (check, slot, trial, `current`), as the service
  # user, while the camera runs; then the daemon is stopped as the updater stops it.
  rel=/var/lib/bodycam-update
  install -d -m 0755 /srv/upd
  bodycam bundle keygen --out /srv/upd/release.key >/dev/null 2>&1
  install -m 0644 /srv/upd/release.key.pub /etc/bodycam/release.pub
  "$node" -e '
    const fs = require("node:fs"); const f = process.argv[1]; const c = JSON.parse(fs.readFileSync(f, "utf8"));
    c.update = { releaseKey: "release.pub", healthSeconds: 180 };
    fs.writeFileSync(f, JSON.stringify(c, null, 2));
  ' "$cfg"
  # The evidence before: every segment's hash (docked, the camera hands segments to the dock, which keeps them) and the key's.
  find /var/lib/bodycam/footage -name '*.mp4.age' -print0 | xargs -0 sha256sum | cut -d' ' -f1 | sort >/root/evidence.sha
  keysum=$(sha256sum /etc/bodycam/identity/device.key)
  cat >/srv/upd/install.mjs <<'JS'
// As the updater does it (src/camera/update/updater.ts #check and #apply), with the package's own modules.
import { readFileSync } from 'node:fs';
const [bundleFile, keyFile, root, running] = process.argv.slice(2);
const { openBundle } = await import('/opt/bodycam/dist/protocol/bundle.js');
const { loadPublicKey } = await import('/opt/bodycam/dist/evidence/keys.js');
const slots = await import('/opt/bodycam/dist/camera/update/slots.js');
const opened = openBundle(readFileSync(bundleFile), loadPublicKey(readFileSync(keyFile, 'utf8')), 'release', running);
if ('refused' in opened) throw new Error(`refused: ${opened.refused}`);
const { manifest, signed, files } = opened.ok;
const previous = (await slots.currentVersion(root)) ?? running;
await slots.installRelease(root, manifest.version, files, signed);
await slots.startReleaseTrial(root, await slots.readState(root), manifest.version, previous, Date.now());
console.log(`${manifest.version} on trial (previous ${previous}, ${files.length} files)`);
JS
  entry() { tr '\0' ' ' <"/proc/$(systemctl show bodycam -p MainPID --value)/cmdline" 2>/dev/null | grep -o '[^ ]*/bodycam\.js'; }
  report() { "$node" -e '
    const s = JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8"));
    const r = s.reports.find((x) => x.kind === "release");
    console.log(`trial=${s.trial === null ? "none" : s.trial.version} release=${r ? `${r.version}:${r.state}` : "none"}${r && r.reason ? ` (${r.reason})` : ""}`);
  ' "$rel/update-state.json" 2>/dev/null || echo "no state"; }
  # Stops the daemon the way the updater's restart does (SIGTERM to it alone: a clean stop, and systemd starts again).
  restart_daemon() { systemctl kill --kill-who=main --signal=SIGTERM bodycam.service; }
  systemctl restart bodycam.service
  wait_state buffering 180
  S through0 "entry=$(entry) current=$(readlink "$rel/current" || echo none) root=$(stat -c '%U %a' "$rel") $(unit bodycam.service)"
  v0=$(bodycam --version)
  v1=$("$node" -p 'const [a, b, c] = process.argv[1].split(/[.-]/); `${a}.${b}.${Number(c) + 1}`' "$v0")
  v2=$("$node" -p 'const [a, b, c] = process.argv[1].split(/[.-]/); `${a}.${b}.${Number(c) + 2}`' "$v0")

  # Release N+1: the package's own application under a newer version.
  mkdir -p /srv/upd/rel1
  for f in /opt/bodycam/*; do case "${f##*/}" in node | bin) ;; *) cp -a "$f" /srv/upd/rel1/ ;; esac; done
  "$node" -e '
    const fs = require("node:fs"); const f = process.argv[1]; const p = JSON.parse(fs.readFileSync(f, "utf8"));
    p.version = process.argv[2]; fs.writeFileSync(f, JSON.stringify(p, null, 2));
  ' /srv/upd/rel1/package.json "$v1"
  t0=$(cs)
  bodycam bundle pack --kind release --bundle-version "$v1" --key /srv/upd/release.key --from /srv/upd/rel1 \
    --out /srv/upd/rel1.bundle >/root/pack.out 2>&1
  S pack1 "exit=$? after=$((($(cs) - t0) / 100)) $(cat /root/pack.out)"
  chmod 0644 /srv/upd/rel1.bundle
  t0=$(cs)
  runuser -u bodycam -- "$node" /srv/upd/install.mjs /srv/upd/rel1.bundle /etc/bodycam/release.pub "$rel" "$v0" >/root/install.out 2>&1
  S install1 "exit=$? after=$((($(cs) - t0) / 100)) $(cat /root/install.out)"
  t0=$(cs)
  restart_daemon
  n=240
  while [ "$n" -gt 0 ]; do
    case "$(report)" in "trial=none release=$v1:healthy"*) break ;; esac
    # Docked (the sim dock line is the daemon's own state: set again after the start).
    bodycam ctl --config "$cfg" set dock on >/dev/null 2>&1
    sleep 1
    n=$((n - 1))
  done
  S healthy1 "after=$((($(cs) - t0) / 100)) $(report) entry=$(entry) current=$(readlink "$rel/current") $(unit bodycam.service)"

  bodycam ctl --config "$cfg" set dock off >/dev/null 2>&1
  # Release N+2, broken at its entry: it throws before any of its own code runs. The start guard puts N+1 back.
  mkdir -p /srv/upd/rel2/dist/cli
  printf '{ "name": "bodycam", "version": "%s", "type": "module" }\n' "$v2" >/srv/upd/rel2/package.json
  echo 'throw new Error("a release broken at its entry");' >/srv/upd/rel2/dist/cli/bodycam.js
  bodycam bundle pack --kind release --bundle-version "$v2" --key /srv/upd/release.key --from /srv/upd/rel2 \
    --out /srv/upd/rel2.bundle >/dev/null 2>&1
  chmod 0644 /srv/upd/rel2.bundle
  runuser -u bodycam -- "$node" /srv/upd/install.mjs /srv/upd/rel2.bundle /etc/bodycam/release.pub "$rel" "$v1" >/root/install.out 2>&1
  S install2 "exit=$? $(cat /root/install.out)"
  t0=$(cs)
  restart_daemon
  n=480
  while [ "$n" -gt 0 ]; do
    [ "$(readlink "$rel/current")" = "releases/$v1" ] && [ "$(camera_state)" = buffering ] &&
      [ "$(systemctl show bodycam -p ActiveState --value)" = active ] && break
    sleep 0.5
    n=$((n - 1))
  done
  S rolledback "after=$((($(cs) - t0) / 100)) $(report) entry=$(entry) current=$(readlink "$rel/current") $(unit bodycam.service)"
  S guard "$(journalctl -u bodycam.service -o cat --no-pager | grep -E 'start guard|a release broken at its entry' | sort | uniq -c | sed 's/^ *//' | tail -n 3)"
  bodycam ctl --config "$cfg" press record --count 2 >/dev/null 2>&1
  wait_state recording 120
  sleep 6
  bodycam ctl --config "$cfg" press record --hold 3500 >/dev/null 2>&1
  wait_state buffering 120
  S recordsagain "incidents=$(bodycam list --config "$cfg" --json 2>/dev/null | grep -c '"trigger"') missing=$(find /var/lib/bodycam/footage /var/lib/bodycam-dock/evidence -type f -print0 | xargs -0 sha256sum | cut -d' ' -f1 | sort -u | comm -23 /root/evidence.sha - | wc -l) key=$([ "$(sha256sum /etc/bodycam/identity/device.key)" = "$keysum" ] && echo unchanged || echo CHANGED) slots=$(ls "$rel/releases" | tr '\n' ' ')"

  # N+1 changed in its slot after the dock checked it, as anything that can write the release root could (the service
  # user, a compromised daemon): the start guard checks the slot against its signed manifest at every start and starts
  # the package's own release instead, reporting the release refused.
  runuser -u bodycam -- sh -c "echo 'process.exit(0);' >>'$rel/releases/$v1/dist/cli/bodycam.js'"
  t0=$(cs)
  restart_daemon
  n=480
  while [ "$n" -gt 0 ]; do
    [ ! -e "$rel/current" ] && [ "$(camera_state)" = buffering ] &&
      [ "$(systemctl show bodycam -p ActiveState --value)" = active ] && break
    sleep 0.5
    n=$((n - 1))
  done
  S tampered "after=$((($(cs) - t0) / 100)) $(report) entry=$(entry) current=$(readlink "$rel/current" || echo none) $(unit bodycam.service)"
  S guard2 "$(journalctl -u bodycam.service -o cat --no-pager | grep -E 'start guard: the release .current. led to' | tail -n 1)"

  # Removal keeps the evidence.
  before=$(find /var/lib/bodycam/footage -name '*.mp4.age' | wc -l)
  systemctl stop bodycam.service bodycam-dock.service
  dpkg --purge bodycam >/root/purge.out 2>&1
  S purge "exit=$? $(cat /root/purge.out)"
  S afterpurge "segments=$(find /var/lib/bodycam/footage -name '*.mp4.age' | wc -l) before=$before index=$(test -f /var/lib/bodycam/index.sqlite && echo kept) key=$(test -f /etc/bodycam/identity/device.key && echo kept) dock=$(test -f /var/lib/bodycam-dock/dock.json && echo kept) releases=$(test -e /var/lib/bodycam-update && echo present || echo gone) opt=$(test -e /opt/bodycam && echo present || echo gone) command=$(if [ -e /usr/bin/bodycam ] || [ -L /usr/bin/bodycam ]; then echo present; else echo gone; fi) decrypt=[$(decrypt_all /root/custodian.key)]"
fi

if [ "$SCENARIO" = upgrade ]; then
  wait_active bodycam.service 600
  S started "$(unit bodycam.service)"
  pid=$(systemctl show bodycam -p MainPID --value)
  S mainuser "$(ps -o user= -p "$pid")"
  S owners "key=$(stat -c '%U:%G %a' /etc/bodycam/identity/device.key) identity=$(stat -c '%U %a' /etc/bodycam/identity) storage=$(stat -c '%U %a' /var/lib/bodycam) index=$(stat -c '%U' /var/lib/bodycam/index.sqlite)"
  wait_state buffering 120
  S status "$(bodycam ctl --config "$cfg" status 2>&1)"
  S prompts "$(ls /etc/bodycam/prompts 2>&1)"
  S list "$(bodycam list --config "$cfg" --json 2>&1 | tr -d '\n')"
  S decrypt "$(decrypt_all /root/custodian.key)"
  bodycam ctl --config "$cfg" press trigger >/dev/null 2>&1
  wait_state recording 120
  sleep 6
  bodycam ctl --config "$cfg" press record --hold 3500 >/dev/null 2>&1
  wait_state buffering 120
  S list2 "$(bodycam list --config "$cfg" --json 2>&1 | tr -d '\n')"
  S decrypt2 "$(decrypt_all /root/custodian.key)"
  bodycam verify /var/lib/bodycam --key /etc/bodycam/identity/device.pub >/root/verify.out 2>&1
  S verify "exit=$? $(tail -n 2 /root/verify.out)"
  S events "$(bodycam ctl --config "$cfg" events --json --limit 400 2>&1 | tr -d '\n')"
fi

S done "$SCENARIO"
sync
systemctl poweroff --no-block
