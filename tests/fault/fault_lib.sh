#!/usr/bin/env bash
# fault_lib.sh — sourced by every fault test, on top of tests/integration/harness.sh (temp dir,
# TLS CA, hub on a free 127.0.0.1 port, assertions, cleanup). Adds: extra cleanup hooks
# (unmounts, network namespaces), flexible agent configs, the fault proxy, and the
# conservation check shared by the tests.
# shellcheck shell=bash
set -euo pipefail
FAULT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/integration/harness.sh
. "$FAULT_DIR/../integration/harness.sh"

FAULT_CLEANUPS=()   # commands run (last first) before the harness cleanup
fault_on_exit() { FAULT_CLEANUPS+=("$1"); }
fault_cleanup() {
  local rc=$? i
  for ((i = ${#FAULT_CLEANUPS[@]} - 1; i >= 0; i--)); do eval "${FAULT_CLEANUPS[$i]}" >/dev/null 2>&1 || true; done
  set +e  # a failing (exit "$rc") must not end this handler before the harness cleanup
  (exit "$rc")
  it_cleanup
}
trap fault_cleanup EXIT

fault_skip() { echo "SKIP $IT_NAME: $*"; IT_OK=1; exit 77; }
fault_figure() {  # fault_figure KEY VALUE — one line docs/reliability.md quotes
  echo "FIGURE $IT_NAME $1=$2"
  echo "$IT_NAME $1=$2" >>"${LB_FAULT_FIGURES:-/dev/null}"
}

if [ -z "${LIGHTBOX_FAULT_PROXY:-}" ] || [ ! -x "${LIGHTBOX_FAULT_PROXY:-}" ]; then
  LIGHTBOX_FAULT_PROXY=$(find "$BUILD_DIR" -type f -name lightbox-fault-proxy -perm -u+x 2>/dev/null | head -1 || true)
fi
PROXY=${LIGHTBOX_FAULT_PROXY:-}

# fault_agent_config FILE AGENT_ID DATA_DIR URL SOURCES_JSON [EXTRA_JSON] — EXTRA is merged last
# (jq `*`), e.g. '{"upload":{"bandwidth":{"default_mbps":8}}}'.
fault_agent_config() {
  local file=$1 id=$2 data=$3 url=$4 sources=$5 extra=${6:-"{}"}
  jq -n --arg id "$id" --arg data "$data" --arg url "$url" --arg ca "$CA" \
    --argjson sources "$sources" --argjson extra "$extra" '
    {agent: {id: $id, data_dir: $data, min_free_mb: 1},
     hub: {url: $url, ca_file: $ca, token: "${LIGHTBOX_AGENT_TOKEN}", connect_timeout_seconds: 3, timeout_seconds: 60},
     upload: {concurrency: 4, retry_initial_seconds: 1, retry_max_seconds: 4, stop_grace_seconds: 2},
     verify: {allow_lossy: false, allow_raw_dataset: true, attachments: ["pdf", "jpg", "jpeg"]},
     sources: $sources,
     log: {level: "info", file: ""}} * $extra' >"$file"
}

# fault_folder_source NAME PATH AFTER_UPLOAD — one folder source as JSON.
fault_folder_source() {
  jq -nc --arg n "$1" --arg p "$2" --arg a "$3" \
    '{name: $n, kind: "folder", path: $p, recursive: true, stable_seconds: 1, poll_seconds: 1,
      include: ["*"], exclude: ["*.tmp", "manifest.json"], after_upload: $a}'
}

# fault_manifest DIR OUT — "sha256 relpath" of every file under DIR (the source set).
fault_manifest() {
  (cd "$1" && find . -type f ! -name manifest.json -print0 | sort -z | xargs -0 -r sha256sum) |
    sed 's#  \./# #' >"$2"
}

# fault_conservation CONFIG TOKEN MANIFEST... — the properties every test ends with:
#  * the queue is settled (nothing collected/verified/uploading), quarantined/failed have reasons;
#  * every source file that is not quarantined/failed at the agent is at the hub, byte-identical
#    (GET and re-hash), each stored once (201 Stored count = distinct objects when the hub logs
#    at debug, and indexed instance totals = distinct accepted DICOM objects);
#  * no orphan spool files (the spool holds exactly the items not yet done) and no temporaries.
# Sets FAULT_ITEMS, FAULT_AT_HUB, FAULT_QUARANTINED, FAULT_FAILED, FAULT_LOST, FAULT_DUPLICATES.
fault_conservation() {
  local cfg=$1 token=$2
  shift 2
  local st=$WORK/conservation-status.json data sha rel code got bad
  "$AGENT" status --config "$cfg" --json >"$st" || it_fail "status failed"
  data=$(jq -r '.agent.data_dir' "$cfg")
  it_eq "$(jq '.queue.collected + .queue.verified + .queue.uploading' "$st")" 0 "items not settled"
  # Reasons: every quarantined and failed item has one.
  it_eq "$(jq '[.quarantined[] | select((.reason // "") == "" or (.reason_code // "") == "")] | length' "$st")" 0 \
    "quarantined items without a reason"
  sqlite3 -readonly "$data/queue.db" "SELECT sha256 FROM items WHERE state IN ('failed','quarantined')" | sort -u >"$WORK/not-sent.txt"
  it_eq "$(sqlite3 -readonly "$data/queue.db" "SELECT COUNT(*) FROM items WHERE state='failed' AND COALESCE(last_error,'')=''")" 0 \
    "failed items without a reason"
  cat "$@" | awk '{print $1}' | sort -u >"$WORK/source-shas.txt"
  FAULT_ITEMS=$(wc -l <"$WORK/source-shas.txt")
  FAULT_QUARANTINED=$(jq '.queue.quarantined' "$st")
  FAULT_FAILED=$(jq '.queue.failed' "$st")
  FAULT_AT_HUB=0
  FAULT_LOST=0
  : >"$WORK/at-hub.txt"
  while read -r sha; do
    grep -qx "$sha" "$WORK/not-sent.txt" && continue
    code=$(curl -sS --cacert "$CA" -H "Authorization: Bearer $token" -o "$WORK/object.bin" -w '%{http_code}' \
      "$HUB_URL/api/v1/objects/$sha" || echo 000)
    got=$( [ "$code" = 200 ] && it_sha "$WORK/object.bin" || echo none)
    if [ "$got" = "$sha" ]; then
      FAULT_AT_HUB=$((FAULT_AT_HUB + 1))
      echo "$sha" >>"$WORK/at-hub.txt"
    else
      FAULT_LOST=$((FAULT_LOST + 1))
      echo "LOST: $sha ($(grep -h "^$sha " "$@" | head -1 | cut -d' ' -f2-)) HTTP $code" >&2
    fi
  done <"$WORK/source-shas.txt"
  it_eq "$FAULT_LOST" 0 "source objects missing or different at the hub"
  # Each stored once: the index holds one instance per distinct accepted DICOM object.
  code=$(it_api "$token" GET "/api/v1/studies?limit=1000")
  it_eq "$code" 200 "GET /api/v1/studies"
  local indexed=0 uid
  for uid in $(jq -r '.studies[].study_uid' "$WORK/body"); do
    it_api "$token" GET "/api/v1/studies/$uid" >/dev/null
    indexed=$((indexed + $(jq '[.series[].instances[]] | length' "$WORK/body")))
    jq -r '.series[].instances[].sha256' "$WORK/body" >>"$WORK/indexed-shas.txt"
  done
  local distinct_indexed
  distinct_indexed=$(sort -u "$WORK/indexed-shas.txt" 2>/dev/null | wc -l)
  FAULT_DUPLICATES=$((indexed - distinct_indexed))
  it_eq "$FAULT_DUPLICATES" 0 "instances indexed twice"
  bad=$(sort -u "$WORK/indexed-shas.txt" | comm -23 - <(sort -u "$WORK/at-hub.txt") | wc -l)
  it_eq "$bad" 0 "indexed instances that no source held"
  if [ "${IT_HUB_LOG_LEVEL:-info}" = debug ] && [ -s "$WORK/logs/hub.log" ]; then
    local stored
    stored=$(jq -R 'fromjson? | select(.msg == "request" and .method == "PUT" and .status == 201) | .path' \
      "$WORK/logs/hub.log" | sort | uniq -d | wc -l)
    it_eq "$stored" 0 "objects answered 201 Stored more than once"
  fi
  # No orphans: spool files are exactly the items that still wait (none, once settled).
  local spool_files tmp_files
  spool_files=$(find "$data/spool" -maxdepth 1 -type f | wc -l)
  tmp_files=$(find "$data/spool" "$data/quarantine" -name '.lbtmp-*' 2>/dev/null | wc -l)
  it_eq "$spool_files" 0 "orphan spool files"
  it_eq "$tmp_files" 0 "spool temporaries left"
  it_eq "$(find "$data/quarantine" -maxdepth 1 -type f ! -name '*.json' | wc -l)" "$FAULT_QUARANTINED" \
    "quarantine files (= quarantined items)"
}

# fault_hub_integrity — every object file under the hub store hashes to its name; no temporaries.
fault_hub_integrity() {
  local f n bad=0
  while IFS= read -r -d '' f; do
    n=$(basename "$f")
    [ "$(it_sha "$f")" = "$n" ] || { bad=$((bad + 1)); echo "BAD OBJECT $f" >&2; }
  done < <(find "$HUB_DATA/objects" -type f -print0)
  it_eq "$bad" 0 "hub objects whose bytes do not hash to their name"
  it_eq "$(find "$HUB_DATA/tmp" -type f 2>/dev/null | wc -l)" 0 "hub temporaries after restart"
}
