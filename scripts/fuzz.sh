#!/usr/bin/env bash
# Runs every fuzz target in fuzz/ for FUZZ_SECONDS (default 20) each.
# cargo fuzz needs nightly-only flags; RUSTC_BOOTSTRAP lets the machine's
# stable toolchain accept them.
source "$(dirname "$0")/lib.sh"
ensure_cargo_fuzz
seconds="${FUZZ_SECONDS:-20}"
cd "$TETHER_ROOT/fuzz"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
for target in $(RUSTC_BOOTSTRAP=1 cargo fuzz list); do
    say "fuzzing $target for ${seconds}s"
    if ! RUSTC_BOOTSTRAP=1 CARGO_TARGET_DIR="$HOME/.cache/tether/fuzz-target" \
        cargo fuzz run "$target" -- -max_total_time="$seconds" -print_final_stats=1 >"$log" 2>&1; then
        tail -n 60 "$log"
        echo "fuzz target $target failed; the crashing input is under fuzz/artifacts/$target" >&2
        exit 1
    fi
    grep -E '^stat::number_of_executed_units' "$log"
done
