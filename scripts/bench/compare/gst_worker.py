"""GStreamer pre-record controller for the comparison (run with Debian's python3 and python3-gi).

The recipe people build: H.264 from the feed, parsed, into a time-bounded leaky queue (max-size-time = pre-roll,
leaky=downstream) closed by a valve (drop=true); on a trigger a new mp4mux (fragmented) + filesink branch is
linked after the valve and the valve opens. `--hold valve` is the recipe as written: the queue's thread pushes
into the closed valve, which drops everything, so the queue never holds anything. `--hold probe` adds what makes it
work: a blocking pad probe on the queue's source pad while idle, so the queue fills up to max-size-time.

Commands on stdin, one JSON object a line: {"cmd":"trigger","id":N}, {"cmd":"stop","id":N}, {"cmd":"quit"}.
Reports on stdout: ready, durable {id, ms, bytes, files}, stopped {id, files}.
Durable: every frame before the GOP in progress at the trigger is muxed, written and fsynced (file and directory).
"""

import json
import os
import sys
import time

import gi

gi.require_version("Gst", "1.0")
from gi.repository import GLib, Gst  # noqa: E402


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def fsync_path(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Recorder:
    def __init__(self, feed, out, preroll, hold, fps):
        self.out = out
        self.hold = hold
        ns = int(preroll * Gst.SECOND)
        self.pipe = Gst.parse_launch(
            f"filesrc location={feed} ! h264parse ! video/x-h264,stream-format=avc,alignment=au ! "
            f"queue name=q max-size-time={ns} max-size-buffers=0 max-size-bytes=0 leaky=downstream ! "
            "valve name=v drop=true"
        )
        self.queue = self.pipe.get_by_name("q")
        self.valve = self.pipe.get_by_name("v")
        self.block = None
        self.frames = 0
        self.frame_ns = Gst.SECOND // fps
        self.last_key_in = None  # pts of the newest keyframe that entered the queue
        self.queue.get_static_pad("sink").add_probe(Gst.PadProbeType.BUFFER, self.on_queue_in)
        self.branch = None

    def block_queue(self):
        pad = self.queue.get_static_pad("src")
        self.block = pad.add_probe(Gst.PadProbeType.BLOCK | Gst.PadProbeType.BUFFER, lambda *_: Gst.PadProbeReturn.OK)

    def on_queue_in(self, _pad, info):
        # Raw H.264 carries no timestamps and h264parse gives none: stamp frame n at n / fps (no B-frames in the
        # feed), as ffmpeg's -framerate does for the other recorders.
        buf = info.get_buffer()
        buf.pts = buf.dts = self.frames * self.frame_ns
        buf.duration = self.frame_ns
        self.frames += 1
        if not buf.has_flags(Gst.BufferFlags.DELTA_UNIT):
            self.last_key_in = buf.pts
        return Gst.PadProbeReturn.OK

    def trigger(self, rid):
        t0 = time.perf_counter()
        path = os.path.join(self.out, f"rec{rid:03d}.mp4")
        mux = Gst.ElementFactory.make("mp4mux")
        mux.set_property("fragment-duration", 500)  # under one GOP: a fragment per GOP
        sink = Gst.ElementFactory.make("filesink")
        sink.set_property("location", path)
        sink.set_property("async", False)
        self.pipe.add(mux)
        self.pipe.add(sink)
        mux.link(sink)
        mux.sync_state_with_parent()
        sink.sync_state_with_parent()
        self.valve.link(mux)
        # Pre-roll = everything before the keyframe that opened the GOP in progress: written once that keyframe has
        # gone through the muxer (its arrival closes the previous fragment), or at once when nothing was held.
        boundary = self.last_key_in
        state = {"done": False, "id": rid}
        self.branch = {"mux": mux, "sink": sink, "path": path, "state": state}

        def report():
            fsync_path(path)
            fsync_path(self.out)
            emit({"event": "durable", "id": rid, "ms": (time.perf_counter() - t0) * 1000,
                  "bytes": os.path.getsize(path), "files": [path]})
            return False

        def on_mux_in(_pad, info):
            buf = info.get_buffer()
            if not state["done"] and (boundary is None or buf.pts > boundary):
                state["done"] = True
                GLib.idle_add(report)
            return Gst.PadProbeReturn.OK

        peer = self.valve.get_static_pad("src").get_peer()
        peer.add_probe(Gst.PadProbeType.BUFFER, on_mux_in)
        self.valve.set_property("drop", False)
        if self.block is not None:
            self.queue.get_static_pad("src").remove_probe(self.block)
            self.block = None

    def stop(self, rid):
        if self.hold == "probe":
            self.block_queue()
        self.valve.set_property("drop", True)
        branch = self.branch
        self.branch = None
        if branch is None:
            return
        mux, sink, path = branch["mux"], branch["sink"], branch["path"]
        peer = self.valve.get_static_pad("src").get_peer()
        if peer is not None:
            self.valve.get_static_pad("src").unlink(peer)
            peer.send_event(Gst.Event.new_eos())
        mux.set_state(Gst.State.NULL)
        sink.set_state(Gst.State.NULL)
        self.pipe.remove(mux)
        self.pipe.remove(sink)
        fsync_path(path)
        emit({"event": "stopped", "id": rid, "files": [path]})


def main():
    args = dict(zip(sys.argv[1::2], sys.argv[2::2]))
    Gst.init(None)
    rec = Recorder(args["--feed"], args["--out"], float(args["--preroll"]), args["--hold"], int(args["--fps"]))
    loop = GLib.MainLoop()

    def on_line(source, _cond):
        line = source.readline()
        if not line:
            loop.quit()
            return False
        msg = json.loads(line)
        if msg["cmd"] == "trigger":
            rec.trigger(msg["id"])
        elif msg["cmd"] == "stop":
            rec.stop(msg["id"])
        elif msg["cmd"] == "quit":
            loop.quit()
            return False
        return True

    def on_message(_bus, message):
        if message.type == Gst.MessageType.ERROR:
            err, dbg = message.parse_error()
            sys.stderr.write(f"gst error: {err} {dbg}\n")
            loop.quit()

    bus = rec.pipe.get_bus()
    bus.add_signal_watch()
    bus.connect("message", on_message)
    GLib.io_add_watch(sys.stdin, GLib.IO_IN | GLib.IO_HUP, on_line)
    rec.pipe.set_state(Gst.State.PLAYING)
    if rec.hold == "probe":
        rec.block_queue()  # once playing: a pad blocked before it is activated never lets the stream start
    emit({"event": "ready"})
    loop.run()
    rec.pipe.set_state(Gst.State.NULL)


if __name__ == "__main__":
    main()
