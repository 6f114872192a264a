# Shared helpers for Tether's scripts: where things live and how to install
# what is missing, each step only when needed. Sourced, not run.

set -euo pipefail

TETHER_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export TETHER_ROOT
# Cargo's target dir lives outside the clone so fresh clones build incrementally.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/tether/target}"
export PATH="$HOME/.cargo/bin:$TETHER_ROOT/e2e/node_modules/.bin:$PATH"
TRUNK_VERSION="0.21.14"

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

# Debian packages the build and tests need.
DEBIAN_PACKAGES=(pkg-config nasm openssl xvfb xdotool xclip x11-utils x11-apps x11-xserver-utils xserver-xorg-core xserver-xorg-video-dummy chromium fonts-dejavu-core postgresql coturn iproute2 nftables)
# The agent's optional `scap` capture (Wayland portal, macOS, Windows) is
# compile-checked by the tests; its PipeWire and D-Bus bindings need these.
DEBIAN_PACKAGES+=(libpipewire-0.3-dev libspa-0.2-dev libdbus-1-dev libclang-dev clang)

ensure_debian_packages() {
    local missing=()
    for package in "${DEBIAN_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
    done
    if ((${#missing[@]})); then
        say "installing Debian packages: ${missing[*]}"
        local sudo=""
        [ "$(id -u)" -eq 0 ] || sudo="sudo"
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" \
            || DEBIAN_FRONTEND=noninteractive $sudo apt-get install -f -y -qq
    fi
}

ensure_rust_tools() {
    if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
        say "adding the wasm32 target"
        rustup target add wasm32-unknown-unknown
    fi
    if [ "$(trunk --version 2>/dev/null)" != "trunk $TRUNK_VERSION" ]; then
        say "installing Trunk $TRUNK_VERSION (takes several minutes, once)"
        cargo install trunk --version "$TRUNK_VERSION" --locked
    fi
    local bindgen_version
    bindgen_version="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' "$TETHER_ROOT/Cargo.lock")"
    if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $bindgen_version" ]; then
        say "installing wasm-bindgen-cli $bindgen_version (matches Cargo.lock)"
        cargo install wasm-bindgen-cli --version "$bindgen_version"
    fi
}

ensure_cargo_fuzz() {
    if ! cargo fuzz --version >/dev/null 2>&1; then
        say "installing cargo-fuzz"
        cargo install cargo-fuzz --locked
    fi
}

ensure_npm_packages() {
    local stamp="$TETHER_ROOT/e2e/node_modules/.package-lock.json"
    if [ ! -f "$stamp" ] || [ "$TETHER_ROOT/e2e/package-lock.json" -nt "$stamp" ]; then
        say "installing e2e npm packages"
        (cd "$TETHER_ROOT/e2e" && npm ci --no-audit --no-fund --loglevel=error)
    fi
}

ensure_everything() {
    ensure_debian_packages
    ensure_rust_tools
    ensure_npm_packages
}

build_web() {
    say "building the web app"
    (cd "$TETHER_ROOT" && trunk build --release --offline 2>&1 | grep -v '^\s*$' | tail -n 5)
    test -f "$TETHER_ROOT/web/dist/index.html"
}

# For the benchmarks: the web app and the release server and agent, unless
# TETHER_WEB_DIR, TETHER_SERVER_BIN and TETHER_AGENT_BIN name builds to use.
build_for_benchmark() {
    if [ -z "${TETHER_WEB_DIR:-}" ]; then
        build_web
    fi
    if [ -z "${TETHER_SERVER_BIN:-}" ] || [ -z "${TETHER_AGENT_BIN:-}" ]; then
        say "building the release server and agent"
        cargo build --release -p tether-server -p tether-agent --manifest-path "$TETHER_ROOT/Cargo.toml"
        export TETHER_SERVER_BIN="${TETHER_SERVER_BIN:-$CARGO_TARGET_DIR/release/tether-server}"
        export TETHER_AGENT_BIN="${TETHER_AGENT_BIN:-$CARGO_TARGET_DIR/release/tether-agent}"
    fi
}
