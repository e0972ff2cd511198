#!/usr/bin/env bash
# backup_restore — `lightbox-hub backup` of a RUNNING hub (agent uploads + records in the index),
# an incremental second backup that copies nothing new, a damaged object reported by name (exit 1,
# the good ones still copied), `restore` refusing a used data dir without --force, and a restored
# hub on a fresh data dir that serves every object byte-identical with the same studies.
set -euo pipefail
# shellcheck source=tests/integration/harness.sh
. "$(dirname "${BASH_SOURCE[0]}")/harness.sh"

it_corpus "$WORK/corpus" --ct-slices 12
it_start_hub
TOKEN=$(it_new_agent hosp-a agent-a)
export LIGHTBOX_AGENT_TOKEN=$TOKEN
CFG=$(it_agent_config agent-a "$WORK/corpus")
"$AGENT" run --config "$CFG" --once >"$WORK/logs/agent.log" 2>&1 || it_fail "agent run --once failed"

it_api "$TOKEN" GET "/api/v1/studies?limit=1000" >/dev/null
jq -S '[.studies[] | {study_uid, instance_count, series_count}] | sort_by(.study_uid)' "$WORK/body" >"$WORK/studies.before"
n_studies=$(jq 'length' "$WORK/studies.before")
[ "$n_studies" -ge 2 ] || it_fail "expected at least 2 studies before the backup, got $n_studies"
mapfile -t objects < <(find "$HUB_DATA/objects" -type f -printf '%f\n' | sort)
[ "${#objects[@]}" -ge 10 ] || it_fail "expected at least 10 stored objects, got ${#objects[@]}"
it_note "hub holds ${#objects[@]} objects in $n_studies studies"

# 1. Backup while the hub is running and serving.
"$HUB" backup --config "$HUB_CONFIG" --to "$WORK/backup" >"$WORK/backup1.json" 2>"$WORK/logs/backup1.err" ||
  it_fail "backup of a running hub failed: $(cat "$WORK/logs/backup1.err")"
it_eq "$(jq -r .complete "$WORK/backup1.json")" true "first backup complete"
it_eq "$(jq -r .copied "$WORK/backup1.json")" "${#objects[@]}" "objects copied by the first backup"
it_eq "$(stat -c %a "$WORK/backup")" 700 "backup directory mode"
[ -f "$WORK/backup/index.db" ] || it_fail "backup has no index.db"
[ -f "$WORK/backup/BACKUP.json" ] || it_fail "backup has no BACKUP.json manifest"
for sha in "${objects[@]}"; do
  f="$WORK/backup/objects/${sha:0:2}/${sha:2:2}/$sha"
  [ -f "$f" ] || it_fail "object $sha missing from the backup"
  [ "$(it_sha "$f")" = "$sha" ] || it_fail "object $sha in the backup does not hash to its name"
done

# 2. Incremental: nothing new was stored, so nothing is copied.
"$HUB" backup --config "$HUB_CONFIG" --to "$WORK/backup" >"$WORK/backup2.json" 2>/dev/null ||
  it_fail "second backup failed"
it_eq "$(jq -r .copied "$WORK/backup2.json")" 0 "objects copied by the second (incremental) backup"
it_eq "$(jq -r .already_present "$WORK/backup2.json")" "${#objects[@]}" "objects found already present"

# 3. A damaged object in the hub is named, not copied; the others are.
victim=${objects[0]}
vf="$HUB_DATA/objects/${victim:0:2}/${victim:2:2}/$victim"
cp "$vf" "$WORK/victim.orig"
printf 'X' | dd of="$vf" bs=1 seek=200 conv=notrunc status=none
set +e
"$HUB" backup --config "$HUB_CONFIG" --to "$WORK/backup-damaged" >"$WORK/backup3.json" 2>"$WORK/logs/backup3.err"
rc=$?
set -e
it_eq "$rc" 1 "exit code of a backup that met a damaged object"
it_eq "$(jq -r '.damaged | length' "$WORK/backup3.json")" 1 "damaged objects reported"
jq -r '.damaged[0]' "$WORK/backup3.json" | grep -q "^$victim: .*SHA-256" ||
  it_fail "damage report does not name the object and the hash: $(jq -c .damaged "$WORK/backup3.json")"
it_eq "$(jq -r .copied "$WORK/backup3.json")" "$(( ${#objects[@]} - 1 ))" "good objects copied beside the damaged one"
[ ! -e "$WORK/backup-damaged/objects/${victim:0:2}/${victim:2:2}/$victim" ] ||
  it_fail "the damaged object was copied into the backup"
cp "$WORK/victim.orig" "$vf"

# 4. Restore refuses a data dir in use, then fills a fresh one.
set +e
"$HUB" restore --config "$HUB_CONFIG" --from "$WORK/backup" >/dev/null 2>"$WORK/logs/restore-refused.err"
rc=$?
set -e
it_eq "$rc" 1 "restore into a data dir that has an index, without --force"
grep -q -- "--force" "$WORK/logs/restore-refused.err" || it_fail "refusal does not mention --force: $(cat "$WORK/logs/restore-refused.err")"

it_stop_hub TERM 20
RESTORED=$WORK/hub-restored
sed "s#$HUB_DATA#$RESTORED#" "$HUB_CONFIG" >"$WORK/hub-restored.jsonc"
HUB_CONFIG=$WORK/hub-restored.jsonc
"$HUB" restore --config "$HUB_CONFIG" --from "$WORK/backup" >"$WORK/restore.json" 2>"$WORK/logs/restore.err" ||
  it_fail "restore failed: $(cat "$WORK/logs/restore.err")"
it_eq "$(jq -r .copied "$WORK/restore.json")" "${#objects[@]}" "objects restored"
"$HUB" check --config "$HUB_CONFIG" >/dev/null || it_fail "check fails on the restored data dir"

it_start_hub
it_api "$TOKEN" GET "/api/v1/studies?limit=1000" >/dev/null ||
  it_fail "restored hub does not answer /api/v1/studies (token kept?)"
jq -S '[.studies[] | {study_uid, instance_count, series_count}] | sort_by(.study_uid)' "$WORK/body" >"$WORK/studies.after"
cmp -s "$WORK/studies.before" "$WORK/studies.after" ||
  it_fail "studies differ after restore: $(diff "$WORK/studies.before" "$WORK/studies.after" | head -5)"
for sha in "${objects[@]}"; do
  code=$(it_api "$TOKEN" GET "/api/v1/objects/$sha")
  [ "$code" = 200 ] || it_fail "restored hub answers $code for object $sha"
  [ "$(it_sha "$WORK/body")" = "$sha" ] || it_fail "restored object $sha differs"
done
it_pass "backup of a running hub, incremental, damage named, restore serves ${#objects[@]} objects"
