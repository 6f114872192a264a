# A throwaway PostgreSQL cluster on a loopback port for the tests, unless
# TETHER_TEST_POSTGRES_URL already names a reachable server. Sourced; the
# cluster is stopped (by its own pg_ctl, i.e. its PID file) when the shell exits.

start_test_postgres() {
    if [ -n "${TETHER_TEST_POSTGRES_URL:-}" ]; then
        say "using PostgreSQL at $TETHER_TEST_POSTGRES_URL"
        return
    fi
    local bin
    bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
    PG_TEST_DIR="$(mktemp -d /tmp/tether-pg.XXXXXX)"
    chown postgres:postgres "$PG_TEST_DIR"
    local port
    port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
    say "starting a throwaway PostgreSQL on 127.0.0.1:$port"
    runuser -u postgres -- "$bin/initdb" -D "$PG_TEST_DIR/data" --auth=trust -U postgres >/dev/null
    runuser -u postgres -- "$bin/pg_ctl" -D "$PG_TEST_DIR/data" -l "$PG_TEST_DIR/log" -w \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $PG_TEST_DIR -c fsync=off" start >/dev/null
    export TETHER_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/postgres"
    trap 'runuser -u postgres -- "'"$bin"'/pg_ctl" -D "'"$PG_TEST_DIR"'/data" -m fast -w stop >/dev/null; rm -rf "'"$PG_TEST_DIR"'"' EXIT
}
