#!/usr/bin/python3
"""A live RTSP server for tests (Debian's gir1.2-gst-rtsp-server-1.0 and python3-gi): serves
rtsp://127.0.0.1:<port>/cam, a 320x240 25 fps H.264 test picture with AAC, and prints `ready`."""
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

PIPELINE = (
    "( videotestsrc is-live=true ! video/x-raw,width=320,height=240,framerate=25/1 "
    "! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=25 ! rtph264pay name=pay0 pt=96 "
    "audiotestsrc is-live=true wave=sine ! audioconvert ! audioresample ! audio/x-raw,rate=44100,channels=2 "
    "! avenc_aac ! rtpmp4gpay name=pay1 pt=97 )"
)

Gst.init(None)
server = GstRtspServer.RTSPServer()
server.set_address("127.0.0.1")
server.set_service(sys.argv[1])
factory = GstRtspServer.RTSPMediaFactory()
factory.set_launch(PIPELINE)
factory.set_shared(True)
server.get_mount_points().add_factory("/cam", factory)
server.attach(None)
print("ready", flush=True)
GLib.MainLoop().run()
