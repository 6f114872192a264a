#!/usr/bin/env bash
# The streaming benchmark: installs what is missing (Debian's GStreamer for
# the reference sender, Xvfb, Chromium, the e2e npm packages), builds the
# release server and agent and the web app, then runs bench/harness.mjs,
# which writes bench/results/<date>-<host>.md and .json.
# Arguments go to the harness, e.g. `bash bench/run.sh --runs 7`.
source "$(dirname "$0")/../scripts/lib.sh"

DEBIAN_PACKAGES+=(
    gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
    gstreamer1.0-plugins-ugly gstreamer1.0-x gstreamer1.0-nice python3-gst-1.0 gir1.2-gst-plugins-base-1.0
    gir1.2-gst-plugins-bad-1.0 python3-websockets python3-xlib python3-numpy
)

ensure_everything
build_for_benchmark
say "running the benchmark (about 20 minutes with the defaults)"
exec node "$TETHER_ROOT/bench/harness.mjs" "$@"
