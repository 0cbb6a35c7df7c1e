#!/bin/sh
# The load benchmark's measurement campaign (docs/performance.md, "Load
# benchmark"): for each engine and each database size, a fresh database, the
# bulk loader, a server, and the app, app-with-ES256 and code display runs;
# then the password hash's bound. Every run's JSON is kept in $OUT, and a
# table of the figures is printed at the end (needs jq).
#
#   go build -o /tmp/openmitid ./cmd/openmitid
#   OPENMITID=/tmp/openmitid ENGINES="sqlite postgres" COUNTS="10000 1000000" \
#     PG='postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable' sh internal/bench/campaign.sh
#
# Run it on a quiet machine: every figure depends on the CPU being the
# server's and the load generator's alone.
set -eu

OPENMITID=${OPENMITID:-openmitid}
ENGINES=${ENGINES:-"sqlite postgres"}
COUNTS=${COUNTS:-"10000 1000000"}
DURATION=${DURATION:-60s}
WARMUP=${WARMUP:-10s}
CONCURRENCY=${CONCURRENCY:-32}
APP_USERS=${APP_USERS:-5000}   # each app takes 10 requests per 10 minutes
CODE_USERS=${CODE_USERS:-3000} # each code display gives a code per 30 s
PG=${PG:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}
OUT=${OUT:-bench-results}
ADDR=${ADDR:-127.0.0.1:18080}
WORK=$(mktemp -d)

mkdir -p "$OUT"
cleanup() { [ -n "${SERVER:-}" ] && kill "$SERVER" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

for engine in $ENGINES; do
	for count in $COUNTS; do
		tag="$engine-$count"
		kek="$WORK/$tag.kek"
		head -c 32 /dev/urandom | base64 >"$kek"
		chmod 600 "$kek"
		if [ "$engine" = sqlite ]; then
			db="sqlite:$WORK/$tag.db"
		else
			schema="bench_$count"
			PGOPTIONS='-c client_min_messages=warning' psql "$PG" -qc "DROP SCHEMA IF EXISTS $schema CASCADE; CREATE SCHEMA $schema"
			db="$PG&search_path=$schema"
		fi
		users="$WORK/$tag.users.json"
		# With fewer identities than that, the server's limits per identity (10
		# app approvals per 10 minutes, one code per 30 s) bound the rate, and
		# the bench reports the wait as "paced".
		app_users=$APP_USERS code_users=$CODE_USERS
		[ "$count" -lt "$app_users" ] && app_users=$count
		[ "$count" -lt "$code_users" ] && code_users=$count
		echo "== $tag: loading" >&2
		"$OPENMITID" testdata identities --db "$db" --kek-file "$kek" --count "$count" --out "$users" 2>"$OUT/$tag.load.log"
		tail -1 "$OUT/$tag.load.log" >&2
		secret=$("$OPENMITID" admin clients add --db "$db" --kek-file "$kek" --id bench-es256 --name "Bench ES256" \
			--redirect-uri http://127.0.0.1/callback --alg ES256 --min-level low --scopes openid | sed -n 's/^client_secret: *//p')
		"$OPENMITID" serve --demo --addr "$ADDR" --db "$db" --kek-file "$kek" 2>"$OUT/$tag.serve.log" &
		SERVER=$!
		for _ in $(seq 50); do curl -fs "http://$ADDR/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
		run() { # name, then bench flags
			name=$1
			shift
			echo "== $tag: $name" >&2
			"$OPENMITID" bench --server "http://$ADDR" --duration "$DURATION" --warmup "$WARMUP" \
				--concurrency "$CONCURRENCY" --users-file "$users" --json "$@" >"$OUT/$tag.$name.json" 2>"$OUT/$tag.$name.log"
			jq -r '"\(.logins_per_s) logins/s, \(.server_cpu_ms_per_login) ms server CPU per login, \(.server_rss_mib) MiB, generator \(.client_cpu_ms_per_login) ms CPU per login, paced \(.paced_s) s, errors \(.errors)"' "$OUT/$tag.$name.json" >&2
		}
		run app --flow app --users "$app_users"
		run app-es256 --flow app --users "$app_users" --client bench-es256 --client-secret "$secret"
		run code_display --flow code_display --users "$code_users"
		kill "$SERVER"
		wait "$SERVER" || true
		SERVER=
		if [ "$engine" = postgres ]; then
			PGOPTIONS='-c client_min_messages=warning' psql "$PG" -qc "DROP SCHEMA $schema CASCADE"
		fi
	done
done
echo "== password hash on all cores" >&2
"$OPENMITID" bench --hash --duration 20s --json >"$OUT/hash.json"

echo
printf '| engine | identities | flow | logins/s | server CPU ms/login | login p50/p95/p99 ms | token step p50/p99 ms | token exchanges/s | RSS MiB | errors |\n'
printf '|---|---|---|---|---|---|---|---|---|---|\n'
for f in "$OUT"/*-*.app.json "$OUT"/*-*.app-es256.json "$OUT"/*-*.code_display.json; do
	[ -e "$f" ] || continue
	base=$(basename "$f" .json)
	tag=${base%.*}
	jq -r --arg engine "${tag%%-*}" --arg count "${tag#*-}" --arg flow "${base##*.}" \
		'"| \($engine) | \($count) | \($flow) | \(.logins_per_s|floor) | \(.server_cpu_ms_per_login*100|floor/100) | \(.login.p50_ms)/\(.login.p95_ms)/\(.login.p99_ms) | \(.steps.token.p50_ms)/\(.steps.token.p99_ms) | \(.steps.token.per_s|floor) | \(.server_rss_mib|floor) | \(.errors|add // 0) |"' "$f"
done
jq -r '"\nargon2id bound: \(.hashes_per_s) hashes/s on \(.cores) cores"' "$OUT/hash.json"
