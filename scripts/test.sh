#!/usr/bin/env bash
# Runs Tether's whole test suite: formatting, clippy (native and wasm32),
# unit and integration tests on SQLite and PostgreSQL, and the browser
# end-to-end tests. Installs whatever is missing first.
source "$(dirname "$0")/lib.sh"
cd "$TETHER_ROOT"

ensure_everything

say "cargo fmt --check"
cargo fmt --all --check
# The fuzz targets are a crate of their own, outside the workspace.
(cd "$TETHER_ROOT/fuzz" && cargo fmt --check)

say "clippy (native)"
cargo clippy --workspace --all-targets --locked -- -D warnings
say "clippy (the agent with its optional scap capture)"
cargo clippy -p tether-agent --features scap --all-targets --locked -- -D warnings
say "clippy (wasm32)"
cargo clippy -p tether-web -p tether-shared --target wasm32-unknown-unknown --all-targets --locked -- -D warnings

# shellcheck source=scripts/postgres.sh
source "$TETHER_ROOT/scripts/postgres.sh"
start_test_postgres

say "unit and integration tests (SQLite and PostgreSQL)"
TETHER_TEST_REQUIRE_POSTGRES=1 TETHER_TEST_REQUIRE_COTURN=1 cargo nextest run --workspace --locked --no-fail-fast

say "fuzzing every parser briefly"
bash "$TETHER_ROOT/scripts/fuzz.sh"

build_web
say "building the server, the agent and its X11 test examples for the browser tests"
cargo build -p tether-server -p tether-agent --examples --bins --locked
say "the test VM (a Debian computer with physical keyboard and mouse; cached)"
bash "$TETHER_ROOT/scripts/vm-image.sh"
say "browser end-to-end tests"
(cd e2e && TETHER_SERVER_BIN="$CARGO_TARGET_DIR/debug/tether-server" \
    TETHER_AGENT_BIN="$CARGO_TARGET_DIR/debug/tether-agent" \
    TETHER_SCENE_BIN="$CARGO_TARGET_DIR/debug/examples/x11_scene" \
    TETHER_INPUT_LOCK_BIN="$CARGO_TARGET_DIR/debug/examples/input_lock" \
    TETHER_WEB_DIR="$TETHER_ROOT/web/dist" npm test)
say "all tests passed"
