#!/usr/bin/python3
"""The benchmark's reference sender: a stand-in Tether agent built from
Debian's GStreamer, the Selkies architecture
(ximagesrc ! videoconvert ! x264enc tune=zerolatency ! rtph264pay ! webrtcbin).

It speaks the agent side of Tether's signalling (shared/src/signal.rs): it
connects to /api/agent/ws with an enrolled agent's credential, says hello,
accepts every session request, answers the controller's offer with
webrtcbin and trickles candidates both ways, so the same server, controller
page and in-page measurement serve both senders. Input is not injected.

Pitfalls handled (see STACK-NOTES): libnice only gathers a loopback
candidate when told to use 127.0.0.1, and webrtcbin's ice-agent property
crashes PyGObject 1.22, so it is fetched through the C API; webrtcbin answers
"inactive" unless the payloader's payload type is the browser's H.264 one.
"""

import argparse
import asyncio
import ctypes
import json
import os
import re
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstWebRTC", "1.0")
gi.require_version("GstSdp", "1.0")
from gi.repository import GLib, Gst, GstSdp, GstWebRTC  # noqa: E402

import websockets  # noqa: E402

_gobject = ctypes.CDLL("libgobject-2.0.so.0")
_gobject.g_signal_emit_by_name.restype = None
_gobject.g_object_unref.argtypes = [ctypes.c_void_p]
ctypes.pythonapi.PyCapsule_GetPointer.restype = ctypes.c_void_p
ctypes.pythonapi.PyCapsule_GetPointer.argtypes = [ctypes.py_object, ctypes.c_char_p]


def log(*parts):
    print("reference:", *parts, file=sys.stderr, flush=True)


def use_loopback(webrtcbin, address):
    """Makes webrtcbin's libnice agent gather on `address` only (C API)."""
    pointer = ctypes.pythonapi.PyCapsule_GetPointer(webrtcbin.__gpointer__, None)
    agent = ctypes.c_void_p()
    _gobject.g_object_get(ctypes.c_void_p(pointer), b"ice-agent", ctypes.byref(agent), None)
    if not agent.value:
        raise RuntimeError("webrtcbin has no ICE agent")
    added = ctypes.c_int(0)
    _gobject.g_signal_emit_by_name(agent, b"add-local-ip-address", ctypes.c_char_p(address.encode()), ctypes.byref(added))
    _gobject.g_object_unref(agent)
    if not added.value:
        raise RuntimeError(f"libnice refused local address {address}")


def h264_payload_type(sdp):
    """The browser's payload type for H.264 Constrained Baseline, packetization-mode 1."""
    rtpmap = dict(re.findall(r"a=rtpmap:(\d+) ([\w-]+)/90000", sdp))
    fmtp = dict(re.findall(r"a=fmtp:(\d+) (.*)", sdp))
    for pt, name in rtpmap.items():
        line = fmtp.get(pt, "")
        if name == "H264" and "packetization-mode=1" in line and "profile-level-id=42e01f" in line:
            return int(pt)
    raise RuntimeError("the offer has no H.264 42e01f packetization-mode=1")


def mids(sdp):
    return re.findall(r"a=mid:(\S+)", sdp)


class Session:
    """One controller session: a pipeline answering one offer."""

    def __init__(self, session_id, send, options):
        self.session_id = session_id
        self.send = send
        self.options = options
        self.pipeline = None
        self.webrtc = None
        self.mids = []
        self.pending = []
        self.remote_set = False
        # Protocol v2 numbers offers; the answer and candidates echo it.
        self.negotiation = None

    def signal(self, signal):
        self.send({"type": "signal", "session_id": self.session_id, "signal": signal})

    def on_offer(self, sdp, negotiation=None):
        # A new offer in the same session is a new peer: start over.
        self.stop()
        self.pending = []
        self.remote_set = False
        self.negotiation = negotiation
        pt = h264_payload_type(sdp)
        self.mids = mids(sdp)
        o = self.options
        description = (
            f"ximagesrc display-name={o.display} use-damage=false show-pointer=false "
            f"! video/x-raw,framerate={o.fps}/1 "
            "! queue max-size-buffers=1 max-size-bytes=0 max-size-time=0 leaky=downstream "
            "! videoconvert ! video/x-raw,format=I420 "
            f"! x264enc tune=zerolatency speed-preset=ultrafast bitrate={o.bitrate_kbps} key-int-max={o.fps * 10} "
            "! video/x-h264,profile=constrained-baseline "
            f"! rtph264pay config-interval=-1 aggregate-mode=zero-latency pt={pt} "
            f"! application/x-rtp,media=video,encoding-name=H264,clock-rate=90000,payload={pt} "
            "! webrtcbin name=webrtc bundle-policy=max-bundle"
        )
        self.pipeline = Gst.parse_launch(description)
        self.webrtc = self.pipeline.get_by_name("webrtc")
        use_loopback(self.webrtc, o.bind)
        self.webrtc.connect("on-ice-candidate", self.on_ice_candidate)
        self.webrtc.connect("notify::connection-state", self.on_state)
        if self.pipeline.set_state(Gst.State.PLAYING) == Gst.StateChangeReturn.FAILURE:
            raise RuntimeError("the pipeline would not start")
        ok, message = GstSdp.SDPMessage.new_from_text(sdp)
        if ok != GstSdp.SDPResult.OK:
            raise RuntimeError("cannot parse the offer")
        offer = GstWebRTC.WebRTCSessionDescription.new(GstWebRTC.WebRTCSDPType.OFFER, message)
        self.webrtc.emit("set-remote-description", offer, Gst.Promise.new_with_change_func(self.on_remote_set, None))

    def on_remote_set(self, promise, _data):
        promise.wait()
        self.remote_set = True
        for index, candidate in self.pending:
            self.webrtc.emit("add-ice-candidate", index, candidate)
        self.pending.clear()
        self.webrtc.emit("create-answer", None, Gst.Promise.new_with_change_func(self.on_answer, None))

    def on_answer(self, promise, _data):
        promise.wait()
        reply = promise.get_reply()
        answer = reply.get_value("answer") if reply else None
        if answer is None:
            log("create-answer failed", reply.to_string() if reply else "")
            self.signal({"kind": "bye", "reason": "the reference could not answer"})
            return
        self.webrtc.emit("set-local-description", answer, Gst.Promise.new())
        reply = {"kind": "answer", "sdp": answer.sdp.as_text()}
        if self.negotiation is not None:
            reply["negotiation"] = self.negotiation
        self.signal(reply)

    def on_ice_candidate(self, _element, index, candidate):
        mid = self.mids[index] if index < len(self.mids) else None
        message = {"kind": "candidate", "candidate": candidate, "sdp_mid": mid, "sdp_mline_index": index}
        if self.negotiation is not None:
            message["negotiation"] = self.negotiation
        self.signal(message)

    def on_state(self, element, _spec):
        log(self.session_id, "connection", element.get_property("connection-state").value_nick)

    def add_candidate(self, signal):
        candidate = signal.get("candidate") or ""
        stale = signal.get("negotiation") not in (None, self.negotiation)
        if not candidate or stale or self.webrtc is None:
            return
        index = signal.get("sdp_mline_index")
        if index is None:
            mid = signal.get("sdp_mid")
            index = self.mids.index(mid) if mid in self.mids else 0
        if self.remote_set:
            self.webrtc.emit("add-ice-candidate", index, candidate)
        else:
            self.pending.append((index, candidate))

    def poll_bus(self):
        """Reports pipeline errors; returns False once the pipeline failed."""
        if self.pipeline is None:
            return True
        bus = self.pipeline.get_bus()
        while True:
            message = bus.pop_filtered(Gst.MessageType.ERROR | Gst.MessageType.EOS)
            if message is None:
                return True
            if message.type == Gst.MessageType.ERROR:
                error, debug = message.parse_error()
                log("pipeline error:", error.message, debug)
                return False
            return False

    def stop(self):
        if self.pipeline is not None:
            self.pipeline.set_state(Gst.State.NULL)
            self.pipeline = None
            self.webrtc = None


def display_info(display):
    """The display as Tether's AgentInfo describes it."""
    from Xlib import display as xdisplay

    screen = xdisplay.Display(display).screen()
    return {"name": display, "width": screen.width_in_pixels, "height": screen.height_in_pixels, "primary": True}


async def run(options):
    with open(options.config, encoding="utf-8") as file:
        config = json.load(file)
    url = re.sub(r"^http", "ws", config["server_url"].rstrip("/")) + "/api/agent/ws"
    headers = {"Authorization": f"Bearer {config['credential']}"}
    loop = asyncio.get_running_loop()
    outbox = asyncio.Queue()
    sessions = {}

    def send(message):
        loop.call_soon_threadsafe(outbox.put_nowait, message)

    async with websockets.connect(url, extra_headers=headers, max_size=64 * 1024) as socket:
        hello = {
            "type": "hello",
            # tether_shared::signal::PROTOCOL_VERSION. A benchmark stand-in,
            # not the product: it ignores the grants (`grant` messages and
            # `session_request`'s grant, v6; their modes, v7), asks nobody
            # and enforces nothing.
            "protocol": 7,
            "info": {
                "hostname": options.hostname,
                "os": "GStreamer " + Gst.version_string().split()[-1],
                "os_user": os.environ.get("USER", ""),
                "agent_version": "reference",
                "displays": [display_info(options.display)],
            },
        }
        await socket.send(json.dumps(hello))

        async def writer():
            while True:
                await socket.send(json.dumps(await outbox.get()))

        async def watcher():
            while True:
                for session_id, session in list(sessions.items()):
                    if not session.poll_bus():
                        session.stop()
                        del sessions[session_id]
                        send({"type": "signal", "session_id": session_id,
                              "signal": {"kind": "bye", "reason": "the reference pipeline failed"}})
                await asyncio.sleep(0.2)

        tasks = [asyncio.create_task(writer()), asyncio.create_task(watcher())]
        try:
            async for text in socket:
                message = json.loads(text)
                kind = message.get("type")
                if kind == "welcome":
                    log("connected as", message["agent_id"])
                elif kind == "session_request":
                    session_id = message["session_id"]
                    for old in sessions.values():
                        old.stop()
                    sessions.clear()
                    sessions[session_id] = Session(session_id, send, options)
                    log("session", session_id)
                elif kind == "signal":
                    session = sessions.get(message["session_id"])
                    signal = message["signal"]
                    if session is None:
                        continue
                    if signal["kind"] == "offer":
                        try:
                            session.on_offer(signal["sdp"], signal.get("negotiation"))
                        except (RuntimeError, GLib.Error) as err:
                            log("cannot answer:", err)
                            session.stop()
                            sessions.pop(session.session_id, None)
                            send({"type": "signal", "session_id": session.session_id,
                                  "signal": {"kind": "bye", "reason": str(err)}})
                    elif signal["kind"] == "candidate":
                        session.add_candidate(signal)
                    elif signal["kind"] == "bye":
                        session.stop()
                        sessions.pop(session.session_id, None)
                elif kind == "error":
                    log("server error:", message.get("message"))
        finally:
            for task in tasks:
                task.cancel()
            for session in sessions.values():
                session.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True, help="an enrolled agent's JSON file (tether-agent enroll)")
    parser.add_argument("--display", default=os.environ.get("DISPLAY", ":0"))
    parser.add_argument("--hostname", default="gst-reference")
    parser.add_argument("--bind", default="127.0.0.1", help="the only local address ICE uses")
    parser.add_argument("--fps", type=int, default=30)
    parser.add_argument("--bitrate-kbps", type=int, default=2500)
    options = parser.parse_args()
    Gst.init(None)
    try:
        asyncio.run(run(options))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
