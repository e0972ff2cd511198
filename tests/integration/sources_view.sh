#!/usr/bin/env bash
# sources_view — the `view` source against real databases over real ODBC drivers, collected by
# the real agent into the real hub:
#   * PostgreSQL 15 (started here: initdb + pg_ctl on 127.0.0.1, random port) through psqlODBC
#     "PostgreSQL Unicode" (psqlodbcw.so) in a UTF8 database;
#   * a second PostgreSQL database with ENCODING 'EUC_CN' (a GB-family server encoding; GBK itself
#     is client-only in PostgreSQL), read twice: through the Unicode driver (the server converts to
#     UTF-8, the agent reads SQLWCHAR) and through the ANSI driver with client_encoding EUC_CN (the
#     agent reads GB2312 bytes, which GBK/GB18030 contain unchanged, and converts them with iconv:
#     `"encoding": "gbk"`; PostgreSQL has no GBK <-> EUC_CN conversion, so EUC_CN is the client side);
#   * SQLite through its ODBC driver (libsqlite3odbc.so).
# DSNs live in a temp odbc.ini (ODBCINI/ODBCSYSINI): nothing in /etc is touched.
# Asserts: every view row arrives once with intact Chinese text (王小明); rows committed late with
# older timestamps inside the look-back and rows sharing one timestamp arrive on the next poll;
# an updated row arrives as a second version; unchanged rows are never re-sent; a collection_task
# record is reported per scan. Skips (77) when PostgreSQL or the ODBC drivers are missing.
set -euo pipefail

skip() { echo "SKIP sources_view: $*"; exit 77; }
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
[ -n "$PGBIN" ] && [ -x "$PGBIN/initdb" ] && [ -x "$PGBIN/pg_ctl" ] || skip "PostgreSQL server not installed (package postgresql)"
command -v psql >/dev/null || skip "psql not installed (package postgresql-client)"
command -v sqlite3 >/dev/null || skip "sqlite3 not installed (package sqlite3)"
ODBCDIR=""
for d in /usr/lib/x86_64-linux-gnu/odbc /usr/lib/aarch64-linux-gnu/odbc /usr/lib64 /usr/lib/odbc /usr/local/lib; do
  [ -f "$d/psqlodbcw.so" ] && ODBCDIR=$d && break
done
[ -n "$ODBCDIR" ] || skip "psqlODBC not installed (package odbc-postgresql)"
SQLITE_DRV=$(ls "$ODBCDIR"/libsqlite3odbc*.so 2>/dev/null | head -1 || true)
[ -n "$SQLITE_DRV" ] || skip "SQLite ODBC driver not installed (package libsqliteodbc)"
ldconfig -p 2>/dev/null | grep -q 'libodbc.so' || [ -e /usr/lib/x86_64-linux-gnu/libodbc.so.2 ] || skip "unixODBC not installed (package unixodbc)"

# shellcheck source=tests/integration/harness.sh
. "$(dirname "${BASH_SOURCE[0]}")/harness.sh"

# --- PostgreSQL: own cluster, as the postgres user when we are root (initdb refuses root).
chmod 755 "$WORK"
PGDATA=$WORK/pgdata PGSOCK=$WORK/pgsock PG_PORT=$(lb_free_port)
mkdir -p "$PGDATA" "$PGSOCK"
touch "$WORK/logs/postgres.log"
as_pg() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi; }
if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || skip "no postgres user to run the server as"
  chown postgres "$PGDATA" "$PGSOCK" "$WORK/logs/postgres.log"
fi
as_pg "$PGBIN/initdb -D $PGDATA -A trust -U postgres --no-sync -E UTF8 --locale=C" >"$WORK/logs/initdb.log" 2>&1 ||
  it_fail "initdb failed"
as_pg "$PGBIN/pg_ctl -D $PGDATA -l $WORK/logs/postgres.log -w -o '-p $PG_PORT -c listen_addresses=127.0.0.1 -k $PGSOCK -c fsync=off' start" \
  >/dev/null || it_fail "pg_ctl start failed"
pg_stop() { as_pg "$PGBIN/pg_ctl -D $PGDATA -m fast -w stop" >/dev/null 2>&1 || true; }
trap 'rc=$?; pg_stop; (exit $rc); it_cleanup' EXIT

PSQL=(psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -v ON_ERROR_STOP=1 -q -X)
"${PSQL[@]}" -d postgres -c "CREATE ROLE edge LOGIN PASSWORD 'edgepass';" \
  -c "CREATE DATABASE ris OWNER edge ENCODING 'UTF8' TEMPLATE template0;" \
  -c "CREATE DATABASE ris_gb OWNER edge ENCODING 'EUC_CN' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0;"
export PGPASSWORD=edgepass PGCLIENTENCODING=UTF8
EPSQL=(psql -h 127.0.0.1 -p "$PG_PORT" -U edge -v ON_ERROR_STOP=1 -q -X)
for db in ris ris_gb; do
  "${EPSQL[@]}" -d "$db" <<'SQL'
CREATE TABLE exams(id serial PRIMARY KEY, accession text NOT NULL, pat_id text, pat_name text,
                   modality text, exam_time timestamp, updated_at timestamp NOT NULL);
CREATE VIEW v_exams AS SELECT accession, pat_id, pat_name, modality, exam_time, updated_at FROM exams;
SQL
done
T0=$("${EPSQL[@]}" -d ris -At -c "SELECT to_char(date_trunc('second', localtimestamp) - interval '1 hour', 'YYYY-MM-DD HH24:MI:SS')")
# Seven rows; A003..A005 share one timestamp (T0 + 10 min).
"${EPSQL[@]}" -d ris <<SQL
INSERT INTO exams(accession, pat_id, pat_name, modality, exam_time, updated_at) VALUES
 ('A001','P001','王小明','CT', '$T0'::timestamp, '$T0'::timestamp),
 ('A002','P002','李华','MR', '$T0'::timestamp + interval '1 min', '$T0'::timestamp + interval '5 min'),
 ('A005','P005','张三','CR', '$T0'::timestamp, '$T0'::timestamp + interval '10 min'),
 ('A003','P003','赵六','US', '$T0'::timestamp, '$T0'::timestamp + interval '10 min'),
 ('A004','P004','MÜLLER^JÖRG','DX', '$T0'::timestamp, '$T0'::timestamp + interval '10 min'),
 ('A006','P006',NULL,'CT', NULL, '$T0'::timestamp + interval '20 min'),
 ('A007','P007','周杰','MG', '$T0'::timestamp + interval '2 min', '$T0'::timestamp + interval '30 min');
SQL
"${EPSQL[@]}" -d ris_gb <<SQL
INSERT INTO exams(accession, pat_id, pat_name, modality, exam_time, updated_at) VALUES
 ('G001','GP001','王小明','CT', '$T0'::timestamp, '$T0'::timestamp),
 ('G002','GP002','欧阳娜娜','MR', '$T0'::timestamp, '$T0'::timestamp + interval '1 min');
SQL
got=$("${EPSQL[@]}" -d ris_gb -At -c "SHOW server_encoding")
it_eq "$got" "EUC_CN" "server encoding of the GB database"

# --- SQLite: a file database with a view.
SQLITE_DB=$WORK/ris.sqlite
sqlite3 "$SQLITE_DB" <<SQL
CREATE TABLE exams(id INTEGER PRIMARY KEY, accession TEXT, pat_id TEXT, pat_name TEXT, modality TEXT,
                   exam_time TIMESTAMP, updated_at TIMESTAMP);
CREATE VIEW v_exams AS SELECT accession, pat_id, pat_name, modality, exam_time, updated_at FROM exams;
INSERT INTO exams(accession, pat_id, pat_name, modality, exam_time, updated_at) VALUES
 ('S001','SP001','王小明','US','$T0','$T0'),
 ('S002','SP002','刘备','CT','$T0','$T0'),
 ('S003','SP003','关羽','MR','$T0','$T0');
SQL

# --- ODBC: DSNs in our own odbc.ini, drivers named by path.
cat >"$WORK/odbc.ini" <<INI
[ris_pg]
Driver=$ODBCDIR/psqlodbcw.so
Servername=127.0.0.1
Port=$PG_PORT
Database=ris
SSLmode=disable
UseDeclareFetch=1
Fetch=100

[ris_gb_w]
Driver=$ODBCDIR/psqlodbcw.so
Servername=127.0.0.1
Port=$PG_PORT
Database=ris_gb
SSLmode=disable

[ris_gb_a]
Driver=$ODBCDIR/psqlodbca.so
Servername=127.0.0.1
Port=$PG_PORT
Database=ris_gb
SSLmode=disable
ConnSettings=SET client_encoding TO 'EUC_CN'

[ris_sqlite]
Driver=$SQLITE_DRV
Database=$SQLITE_DB
INI
: >"$WORK/odbcinst.ini"
export ODBCINI=$WORK/odbc.ini ODBCSYSINI=$WORK
export LB_DB_PASSWORD=edgepass

# --- hub + agent
it_start_hub
TOKEN=$(it_new_agent hosp-v agent-v)
export LIGHTBOX_AGENT_TOKEN=$TOKEN
CFG=$WORK/agent-v.jsonc
view_src() {  # view_src NAME DSN KIND ENCODING FIELDS_JSON [KEY] [LOOKBACK]
  cat <<EOF
    {"name": "$1", "kind": "view", "dsn": "$2", "username": "edge", "password": "\${LB_DB_PASSWORD}",
     "view": "v_exams", "record_kind": "$3", "encoding": "$4", "batch_rows": 2, "poll_seconds": 1,
     "watermark": {"timestamp_column": "updated_at", "key_column": "${6:-accession}", "lookback_seconds": ${7:-3600}},
     "map": {"key": "${6:-accession}", "version": "updated_at", "fields": $5}}
EOF
}
EXAM_FIELDS='{"patient_id": "pat_id", "patient_name": "pat_name", "modality": "modality", "performed": "exam_time", "accession_number": "accession"}'
cat >"$CFG" <<EOF
{
  "agent": {"id": "agent-v", "data_dir": "$WORK/agent-data"},
  "hub": {"url": "$HUB_URL", "ca_file": "$CA", "token": "\${LIGHTBOX_AGENT_TOKEN}"},
  "upload": {"concurrency": 2, "retry_initial_seconds": 1, "retry_max_seconds": 5},
  "sources": [
$(view_src ris-pg ris_pg exam utf-8 "$EXAM_FIELDS"),
$(view_src ris-gb-unicode ris_gb_w exam utf-8 "$EXAM_FIELDS"),
$(view_src ris-gb-ansi ris_gb_a patient gbk '{"name": "pat_name"}' pat_id),
$(view_src ris-sqlite ris_sqlite exam utf-8 "$EXAM_FIELDS" accession 0),
$(view_src ris-pg-sliced ris_pg exam utf-8 "$EXAM_FIELDS" | sed 's/"batch_rows": 2,/"batch_rows": 2, "max_records_per_poll": 3,/')
  ],
  "log": {"level": "debug", "file": ""}
}
EOF

"$AGENT" check --config "$CFG" >"$WORK/check.txt" 2>&1 || { cat "$WORK/check.txt" >&2; it_fail "agent check failed"; }
for s in ris-pg ris-gb-unicode ris-gb-ansi ris-sqlite; do
  grep -q "^OK source $s:" "$WORK/check.txt" || { cat "$WORK/check.txt" >&2; it_fail "check did not pass source $s"; }
done
it_note "check: $(grep -c '^OK' "$WORK/check.txt") OK lines"

# A config that tries to write is refused before anything connects.
sed 's/"view": "v_exams", "record_kind": "exam", "encoding": "utf-8", "batch_rows": 2, "poll_seconds": 1,/"select": "DELETE FROM exams", "record_kind": "exam", "encoding": "utf-8", "batch_rows": 2, "poll_seconds": 1,/' \
  "$CFG" >"$WORK/bad.jsonc"
if "$AGENT" check --config "$WORK/bad.jsonc" >"$WORK/bad.txt" 2>&1; then it_fail "a DELETE select passed check"; fi
grep -q 'sources\[0\].select: must start with SELECT' "$WORK/bad.txt" || { cat "$WORK/bad.txt" >&2; it_fail "DELETE select not refused by path"; }
it_note "a non-SELECT query is refused: $(grep -m1 'select' "$WORK/bad.txt")"

run_once() {  # run_once N — run --once, log in logs/agent-N.log, summary in run-N.json
  "$AGENT" run --once --config "$CFG" </dev/null >"$WORK/run-$1.json" 2>"$WORK/logs/agent-$1.log" ||
    it_fail "run --once #$1 failed"
}
scanned() {  # scanned N SOURCE FIELD — the view source's count in run N's debug log
  jq -rR --arg s "$2" --arg f "$3" 'fromjson? | select(.msg == "scanned" and .source == $s) | .[$f]' \
    "$WORK/logs/agent-$1.log" 2>/dev/null | head -1 || true
}
scanned_sum() {  # scanned_sum N SOURCE — records over every poll of run N (a sliced first load)
  jq -R --arg s "$2" 'fromjson? | select(.msg == "scanned" and .source == $s) | .records' \
    "$WORK/logs/agent-$1.log" 2>/dev/null | awk '{n += $1} END {print n + 0}'
}
record() {  # record KIND KEY — GET /api/v1/records/KIND/KEY into $WORK/body, prints the HTTP code
  it_api "$TOKEN" GET "/api/v1/records/$1/$2"
}
expect_record() {  # expect_record KIND KEY VERSIONS FIELD VALUE
  local code
  code=$(record "$1" "$2")
  [ "$code" = 200 ] || it_fail "GET /api/v1/records/$1/$2 answered $code: $(cat "$WORK/body")"
  it_eq "$(jq '.versions | length' "$WORK/body")" "$3" "versions of $1/$2"
  [ -z "${4:-}" ] || it_eq "$(jq -r --arg f "$4" '.versions | sort_by(.version) | last | .fields[$f]' "$WORK/body")" "$5" "$1/$2 fields.$4"
}

# --- 1. first poll: every row of every view arrives once.
run_once 1
S=$WORK/status-1.json
it_status "$CFG" "$S"
it_eq "$(jq '.records.failed + .records.quarantined' "$S")" 0 "failed or quarantined record batches after run 1"
it_eq "$(jq '.records.verified + .records.uploading + .records.collected' "$S")" 0 "record batches left after run 1"
it_eq "$(jq '[.queue[]] | add' "$S")" 0 "file items (a view source queues only record batches)"
it_eq "$(jq '.records' "$WORK/run-1.json")" "$(jq '.records.done' "$S")" "record batches delivered by run 1 (= done)"
it_eq "$(scanned 1 ris-pg records)" 7 "ris-pg records in run 1"
it_eq "$(scanned 1 ris-gb-unicode records)" 2 "ris-gb-unicode records in run 1"
it_eq "$(scanned 1 ris-gb-ansi records)" 2 "ris-gb-ansi records in run 1"
it_eq "$(scanned 1 ris-sqlite records)" 3 "ris-sqlite records in run 1"
it_eq "$(scanned 1 ris-pg-sliced records)" 4 "ris-pg-sliced records in its first poll (max_records_per_poll 3, batches of 2)"
it_eq "$(scanned_sum 1 ris-pg-sliced)" 7 "ris-pg-sliced records over the polls of run 1"
if grep -q '"records_rejected"' "$S"; then it_fail "the hub rejected records: $(jq -c .recent_errors "$S")"; fi
for k in A001 A002 A003 A004 A005 A006 A007 G001 G002 S001 S002 S003; do expect_record exam "$k" 1; done
expect_record exam A001 1 patient_name "王小明"
expect_record exam A004 1 patient_name "MÜLLER^JÖRG"
expect_record exam A006 1 patient_name "null"
expect_record exam G001 1 patient_name "王小明"
expect_record exam G002 1 patient_name "欧阳娜娜"
expect_record patient GP001 1 name "王小明"
expect_record patient GP002 1 name "欧阳娜娜"
expect_record exam S001 1 patient_name "王小明"
expect_record exam A002 1 performed "$("${EPSQL[@]}" -d ris -At -c "SELECT to_char('$T0'::timestamp + interval '1 min', 'YYYY-MM-DD\"T\"HH24:MI:SS')")"
code=$(record exam NOPE); it_eq "$code" 404 "an exam no view has"

# --- 2. late commits: an older timestamp inside the look-back, a row sharing the watermark's
# timestamp with a smaller key, and an update (a new version). Unchanged rows are not re-sent.
"${EPSQL[@]}" -d ris <<SQL
INSERT INTO exams(accession, pat_id, pat_name, modality, exam_time, updated_at) VALUES
 ('A000','P000','迟到','CT', '$T0'::timestamp, '$T0'::timestamp + interval '3 min'),
 ('A0065','P0065','同时','CT', '$T0'::timestamp, '$T0'::timestamp + interval '30 min');
UPDATE exams SET pat_name = '王小明（更正）', updated_at = '$T0'::timestamp + interval '40 min' WHERE accession = 'A001';
SQL
sqlite3 "$SQLITE_DB" "INSERT INTO exams(accession, pat_id, pat_name, modality, exam_time, updated_at) VALUES ('S000','SP000','曹操','CT','$T0','$T0');"
run_once 2
it_eq "$(scanned 2 ris-pg records)" 3 "ris-pg records in run 2 (late, same-timestamp, updated)"
it_eq "$(scanned 2 ris-sqlite records)" 1 "ris-sqlite records in run 2 (same timestamp as the watermark, look-back 0)"
it_eq "$(scanned 2 ris-gb-unicode records)" 0 "ris-gb-unicode records in run 2"
it_eq "$(scanned_sum 2 ris-pg-sliced)" 3 "ris-pg-sliced records in run 2"
expect_record exam A000 1 patient_name "迟到"
expect_record exam A0065 1 patient_name "同时"
expect_record exam A001 2 patient_name "王小明（更正）"
expect_record exam S000 1 patient_name "曹操"
for k in A002 A003 A004 A005 A006 A007 S001 S002 S003 G001 G002; do expect_record exam "$k" 1; done

# --- 3. nothing changed: nothing collected, nothing sent.
run_once 3
for s in ris-pg ris-gb-unicode ris-gb-ansi ris-sqlite ris-pg-sliced; do it_eq "$(scanned 3 "$s" records)" 0 "$s records in run 3"; done
it_eq "$(jq '.collected' "$WORK/run-3.json")" 0 "items collected by run 3"
it_status "$CFG" "$S"
it_eq "$(jq '.records.failed + .records.quarantined' "$S")" 0 "failed or quarantined record batches at the end"
wm=$(jq -r '.sources[] | select(.name == "ris-pg") | .watermark' "$S")
it_note "ris-pg watermark: $wm"
[ "$(jq -r '.key' <<<"$wm")" = A001 ] || it_fail "ris-pg watermark should end at the updated row A001: $wm"

# --- 4. collection task reports (采集任务) reached the hub.
code=$(it_api "$TOKEN" GET "/api/v1/tasks?source=ris-pg&limit=100")
if [ "$code" = 200 ]; then
  n=$(jq '[.. | objects | select(.source? == "ris-pg")] | length' "$WORK/body")
  [ "$n" -ge 2 ] || it_fail "expected >= 2 collection tasks for ris-pg, got: $(head -c 600 "$WORK/body")"
  it_note "collection tasks for ris-pg at the hub: $n"
else
  it_fail "GET /api/v1/tasks answered $code"
fi
# --- 5. the database goes down: that source reports it, the others go on.
pg_stop
sqlite3 "$SQLITE_DB" "INSERT INTO exams(accession, pat_id, pat_name, modality, exam_time, updated_at) VALUES ('S009','SP009','孙权','CT','$T0',datetime('$T0', '+1 hour'));"
run_once 5
expect_record exam S009 1 patient_name "孙权"
it_status "$CFG" "$S"
err=$(jq -r '.sources[] | select(.name == "ris-pg") | .last_error' "$S")
case "$err" in *"cannot connect to DSN=ris_pg"*) it_note "ris-pg last_error: $err" ;; *) it_fail "ris-pg last_error: $err" ;; esac
[ "$(jq -r '.sources[] | select(.name == "ris-sqlite") | .last_error' "$S")" = null ] || it_fail "ris-sqlite has an error"
if grep -q edgepass "$WORK"/logs/agent-*.log "$S"; then it_fail "the database password appears in a log or status"; fi

it_pass "5 view sources (PostgreSQL UTF8 + EUC_CN via Unicode and ANSI/GBK drivers, SQLite) collected exactly once"
