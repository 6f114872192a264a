#!/usr/bin/env bash
# The session-end latency benchmark: installs what is missing (Xvfb, xdotool,
# Chromium, the e2e npm packages), builds the release server and agent and
# the web app (TETHER_SERVER_BIN, TETHER_AGENT_BIN and TETHER_WEB_DIR skip
# the builds), then runs bench/session_end.mjs, which writes
# bench/results/<date>-session-end-<host>.md and .json.
# Arguments go to it, e.g. `bash bench/session_end.sh --runs 20`.
source "$(dirname "$0")/../scripts/lib.sh"

ensure_everything
build_for_benchmark
say "running the session-end benchmark (a few minutes with the defaults)"
exec node "$TETHER_ROOT/bench/session_end.mjs" "$@"
