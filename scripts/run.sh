#!/usr/bin/env bash
# Builds Tether and runs it on its embedded defaults: a SQLite file under
# ./tether-data and the server on http://127.0.0.1:8080 serving the web app.
# Installs whatever is missing first. Ctrl-C stops it.
source "$(dirname "$0")/lib.sh"

ensure_everything
build_web
say "building the server and the agent"
cargo build --release -p tether-server -p tether-agent --manifest-path "$TETHER_ROOT/Cargo.toml"
say "the agent for the computers to help: $CARGO_TARGET_DIR/release/tether-agent"
say "starting Tether — open the URL below; the first start prints the admin's one-time password"
cd "$TETHER_ROOT"
exec "$CARGO_TARGET_DIR/release/tether-server" serve --web-dir "$TETHER_ROOT/web/dist" "$@"
