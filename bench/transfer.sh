#!/usr/bin/env bash
# The file transfer benchmark: installs what is missing (Xvfb, Chromium, the
# e2e npm packages), builds the release server and agent and the web app,
# then runs bench/transfer.mjs, which writes
# bench/results/<date>-transfer-<host>.md and .json.
# Arguments go to it, e.g. `bash bench/transfer.sh --runs 5 --size-mib 2048`.
source "$(dirname "$0")/../scripts/lib.sh"

ensure_everything
build_for_benchmark
say "running the file transfer benchmark (a few minutes with the defaults)"
exec node "$TETHER_ROOT/bench/transfer.mjs" "$@"
