#!/usr/bin/env bash
# The file transfer benchmark: installs what is missing (Xvfb, Chromium, the
# e2e npm packages), builds the release server and agent and the web app,
# then runs bench/transfer.mjs, which writes
# bench/results/<date>-transfer-<host>.md and .json.
# Arguments go to it, e.g. `bash bench/transfer.sh --runs 5 --size-mib 2048`.
source "$(dirname "$0")/../scripts/lib.sh"

ensure_everything
if [ -z "${TETHER_WEB_DIR:-}" ]; then
    build_web
fi
if [ -z "${TETHER_SERVER_BIN:-}" ] || [ -z "${TETHER_AGENT_BIN:-}" ]; then
    say "building the release server and agent"
    cargo build --release -p tether-server -p tether-agent --manifest-path "$TETHER_ROOT/Cargo.toml"
    export TETHER_SERVER_BIN="${TETHER_SERVER_BIN:-$CARGO_TARGET_DIR/release/tether-server}"
    export TETHER_AGENT_BIN="${TETHER_AGENT_BIN:-$CARGO_TARGET_DIR/release/tether-agent}"
fi
say "running the file transfer benchmark (a few minutes with the defaults)"
exec node "$TETHER_ROOT/bench/transfer.mjs" "$@"
