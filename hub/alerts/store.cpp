#include "hub/alerts/store.hpp"

#include "common/clock/clock.hpp"
#include "hub/index/record_schema.hpp"
#include "hub/index/sqlite_schema.hpp"

namespace lightbox::hub::alerts {
namespace {

constexpr std::string_view kAlertSchema = R"sql(
CREATE TABLE IF NOT EXISTS alerts (
  id INTEGER PRIMARY KEY,
  key TEXT NOT NULL,
  rule TEXT NOT NULL,
  institution TEXT NOT NULL,
  agent TEXT NOT NULL,
  subject TEXT NOT NULL,
  severity TEXT NOT NULL,
  firing INTEGER NOT NULL,
  message TEXT NOT NULL,
  first_fired_ms INTEGER NOT NULL,
  last_notified_ms INTEGER NOT NULL DEFAULT 0,
  resolved_ms INTEGER NOT NULL DEFAULT 0,
  acked_ms INTEGER NOT NULL DEFAULT 0,
  acked_by TEXT NOT NULL DEFAULT '',
  ack_note TEXT NOT NULL DEFAULT '',
  notifications INTEGER NOT NULL DEFAULT 0,
  flaps INTEGER NOT NULL DEFAULT 0,
  notified_open INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS alerts_by_key ON alerts(key, id);
CREATE INDEX IF NOT EXISTS alerts_by_state ON alerts(firing, id);
CREATE TABLE IF NOT EXISTS alert_outbox (
  id INTEGER PRIMARY KEY,
  alert_id INTEGER NOT NULL,
  channel TEXT NOT NULL,
  recipient TEXT NOT NULL DEFAULT '',
  event TEXT NOT NULL,
  alert TEXT NOT NULL,
  state TEXT NOT NULL DEFAULT 'pending',
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_ms INTEGER NOT NULL,
  created_ms INTEGER NOT NULL,
  done_ms INTEGER NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS alert_outbox_due ON alert_outbox(state, channel, next_attempt_ms);
-- The absence rule asks "did institution X send anything between t1 and t2?" per day and
-- institution: these make each question one index probe.
CREATE INDEX IF NOT EXISTS alerts_object_senders_by_time ON object_senders(institution, first_at);
CREATE INDEX IF NOT EXISTS alerts_records_by_time ON records(institution, received_at);
)sql";

constexpr const char* kAlertColumns =
    "id,rule,institution,agent,subject,severity,firing,message,first_fired_ms,last_notified_ms,resolved_ms,"
    "acked_ms,acked_by,ack_note,notifications,flaps,notified_open";

Alert read_alert(const sqlite::Stmt& st) {
  Alert a;
  a.id = st.int64(0);
  a.key = AlertKey{st.text(1), st.text(2), st.text(3), st.text(4)};
  (void)parse_severity(st.text(5), a.severity);
  a.firing = st.int64(6) != 0;
  a.message = st.text(7);
  a.first_fired_ms = st.int64(8);
  a.last_notified_ms = st.int64(9);
  a.resolved_ms = st.int64(10);
  a.acked_ms = st.int64(11);
  a.acked_by = st.text(12);
  a.ack_note = st.text(13);
  a.notifications = st.int64(14);
  a.flaps = st.int64(15);
  a.notified_open = st.int64(16) != 0;
  return a;
}

template <class F>
Status each_row(sqlite::Stmt& st, F&& f) {
  for (;;) {
    auto row = st.step();
    if (!row) return std::move(row).error();
    if (!*row) return {};
    f(st);
  }
}

}  // namespace

Result<std::unique_ptr<AlertStore>> AlertStore::open(const std::string& path) {
  auto db = sqlite::Db::open(path);
  if (!db) return std::move(db).error();
  // The rules read objects and records per day: make sure those tables exist too.
  if (auto s = db->exec(index::kSchemaSql); !s) return std::move(s).error();
  if (auto s = db->exec(index::kRecordSchemaSql); !s) return std::move(s).error();
  if (auto s = db->exec(kAlertSchema); !s) return std::move(s).error();
  return std::unique_ptr<AlertStore>(new AlertStore(std::move(*db)));
}

Result<std::vector<Alert>> AlertStore::query_alerts(const std::string& where, std::int64_t arg,
                                                    std::int64_t limit) {
  auto st = db_.prepare(std::string("SELECT ") + kAlertColumns + " FROM alerts WHERE " + where +
                        " ORDER BY id DESC LIMIT ?2");
  if (!st) return std::move(st).error();
  st->bind(1, arg).bind(2, limit);
  std::vector<Alert> out;
  if (auto s = each_row(*st, [&](const sqlite::Stmt& s) { out.push_back(read_alert(s)); }); !s)
    return std::move(s).error();
  return out;
}

Result<std::vector<Alert>> AlertStore::firing() {
  std::lock_guard lock(mu_);
  return query_alerts("firing=?1", 1, -1);
}

Result<std::vector<Alert>> AlertStore::resolved_since(std::int64_t since_ms) {
  std::lock_guard lock(mu_);
  // Newest row per key only: an older resolved episode of the same key is not a flap candidate.
  return query_alerts(
      "firing=0 AND resolved_ms>=?1 AND id=(SELECT max(id) FROM alerts b WHERE b.key=alerts.key)", since_ms,
      -1);
}

Status AlertStore::apply(std::vector<Change>& changes, std::int64_t now_ms) {
  if (changes.empty()) return {};
  std::lock_guard lock(mu_);
  sqlite::Txn txn(db_);
  if (!txn.begun()) return txn.begun();
  auto ins = db_.prepare(
      "INSERT INTO alerts(key,rule,institution,agent,subject,severity,firing,message,first_fired_ms,"
      "last_notified_ms,resolved_ms,acked_ms,acked_by,ack_note,notifications,flaps,notified_open) "
      "VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17)");
  if (!ins) return std::move(ins).error();
  auto upd = db_.prepare(
      "UPDATE alerts SET "
      "severity=?2,firing=?3,message=?4,last_notified_ms=?5,resolved_ms=?6,notifications=?7,"
      "flaps=?8,notified_open=?9 WHERE id=?1");
  if (!upd) return std::move(upd).error();
  auto out = db_.prepare(
      "INSERT INTO alert_outbox(alert_id,channel,recipient,event,alert,next_attempt_ms,created_ms) "
      "VALUES(?,?,?,?,?,?,?)");
  if (!out) return std::move(out).error();
  for (auto& c : changes) {
    Alert& a = c.alert;
    if (a.id == 0) {
      ins->bind(1, a.key.str()).bind(2, a.key.rule).bind(3, a.key.institution).bind(4, a.key.agent);
      ins->bind(5, a.key.subject)
          .bind(6, severity_name(a.severity))
          .bind(7, a.firing ? 1 : 0)
          .bind(8, a.message);
      ins->bind(9, a.first_fired_ms)
          .bind(10, a.last_notified_ms)
          .bind(11, a.resolved_ms)
          .bind(12, a.acked_ms);
      ins->bind(13, a.acked_by).bind(14, a.ack_note).bind(15, a.notifications).bind(16, a.flaps);
      ins->bind(17, a.notified_open ? 1 : 0);
      if (auto s = ins->run(); !s) return s;
      a.id = db_.last_insert_rowid();
    } else {
      upd->bind(1, a.id).bind(2, severity_name(a.severity)).bind(3, a.firing ? 1 : 0).bind(4, a.message);
      upd->bind(5, a.last_notified_ms).bind(6, a.resolved_ms).bind(7, a.notifications).bind(8, a.flaps);
      upd->bind(9, a.notified_open ? 1 : 0);
      if (auto s = upd->run(); !s) return s;
    }
    if (c.event.empty()) continue;
    const std::string snapshot = to_json(a).dump();
    for (const auto& [channel, recipient] : c.targets) {
      out->bind(1, a.id).bind(2, channel).bind(3, recipient).bind(4, c.event).bind(5, snapshot);
      out->bind(6, now_ms).bind(7, now_ms);
      if (auto s = out->run(); !s) return s;
    }
  }
  return txn.commit();
}

Result<std::vector<Alert>> AlertStore::list(bool firing, std::int64_t limit) {
  std::lock_guard lock(mu_);
  return query_alerts("firing=?1", firing ? 1 : 0, limit);
}

Result<Alert> AlertStore::get(std::int64_t id) {
  std::lock_guard lock(mu_);
  auto r = query_alerts("id=?1", id, 1);
  if (!r) return std::move(r).error();
  if (r->empty()) return fail(Errc::not_found, "no alert " + std::to_string(id), "id");
  return r->front();
}

Result<Alert> AlertStore::ack(std::int64_t id, const std::string& who, const std::string& note,
                              std::int64_t now_ms) {
  {
    std::lock_guard lock(mu_);
    auto st = db_.prepare("UPDATE alerts SET acked_ms=?2, acked_by=?3, ack_note=?4 WHERE id=?1");
    if (!st) return std::move(st).error();
    st->bind(1, id).bind(2, now_ms).bind(3, who).bind(4, note);
    if (auto s = st->run(); !s) return std::move(s).error();
    if (db_.changes() == 0) return fail(Errc::not_found, "no alert " + std::to_string(id), "id");
  }
  return get(id);
}

Result<std::vector<OutboxItem>> AlertStore::due(const std::string& channel, std::int64_t now_ms, int limit) {
  std::lock_guard lock(mu_);
  auto st = db_.prepare(
      "SELECT o.id,o.alert_id,o.channel,o.recipient,o.event,o.alert,o.attempts,o.created_ms FROM "
      "alert_outbox o "
      "WHERE o.state='pending' AND o.channel=?1 AND o.next_attempt_ms<=?2 AND NOT EXISTS (SELECT 1 FROM "
      "alert_outbox p WHERE p.state='pending' AND p.channel=o.channel AND p.alert_id=o.alert_id AND "
      "p.recipient=o.recipient AND p.id<o.id) ORDER BY o.id LIMIT ?3");
  if (!st) return std::move(st).error();
  st->bind(1, channel).bind(2, now_ms).bind(3, limit);
  std::vector<OutboxItem> out;
  auto s = each_row(*st, [&](const sqlite::Stmt& r) {
    OutboxItem it;
    it.id = r.int64(0);
    it.alert_id = r.int64(1);
    it.channel = r.text(2);
    it.recipient = r.text(3);
    it.event = r.text(4);
    it.alert = nlohmann::json::parse(r.text(5), nullptr, false);
    it.attempts = r.int64(6);
    it.created_ms = r.int64(7);
    out.push_back(std::move(it));
  });
  if (!s) return std::move(s).error();
  return out;
}

Result<std::optional<std::int64_t>> AlertStore::next_due(const std::string& channel) {
  std::lock_guard lock(mu_);
  // Only items at the head of their (alert, recipient) line count: the ones behind wait for it.
  auto st = db_.prepare(
      "SELECT min(o.next_attempt_ms) FROM alert_outbox o WHERE o.state='pending' AND o.channel=?1 AND NOT "
      "EXISTS "
      "(SELECT 1 FROM alert_outbox p WHERE p.state='pending' AND p.channel=o.channel AND "
      "p.alert_id=o.alert_id AND "
      "p.recipient=o.recipient AND p.id<o.id)");
  if (!st) return std::move(st).error();
  st->bind(1, channel);
  auto row = st->step();
  if (!row) return std::move(row).error();
  if (!*row || st->is_null(0)) return std::optional<std::int64_t>{};
  return std::optional<std::int64_t>{st->int64(0)};
}

Status AlertStore::mark_sent(std::int64_t id, std::int64_t now_ms) {
  std::lock_guard lock(mu_);
  auto st = db_.prepare("UPDATE alert_outbox SET state='sent', attempts=attempts+1, done_ms=?2 WHERE id=?1");
  if (!st) return std::move(st).error();
  st->bind(1, id).bind(2, now_ms);
  return st->run();
}

Status AlertStore::mark_retry(std::int64_t id, std::int64_t next_ms, const std::string& error) {
  std::lock_guard lock(mu_);
  auto st = db_.prepare(
      "UPDATE alert_outbox SET attempts=attempts+1, next_attempt_ms=?2, last_error=?3 WHERE id=?1");
  if (!st) return std::move(st).error();
  st->bind(1, id).bind(2, next_ms).bind(3, error);
  return st->run();
}

Status AlertStore::mark_failed(std::int64_t id, std::int64_t now_ms, const std::string& error) {
  std::lock_guard lock(mu_);
  auto st = db_.prepare(
      "UPDATE alert_outbox SET state='failed', attempts=attempts+1, done_ms=?2, last_error=?3 WHERE id=?1");
  if (!st) return std::move(st).error();
  st->bind(1, id).bind(2, now_ms).bind(3, error);
  return st->run();
}

Status AlertStore::prune(std::int64_t outbox_before_ms, std::int64_t alerts_before_ms) {
  std::lock_guard lock(mu_);
  auto out = db_.prepare("DELETE FROM alert_outbox WHERE state<>'pending' AND done_ms<?");
  if (!out) return std::move(out).error();
  out->bind(1, outbox_before_ms);
  if (auto s = out->run(); !s) return s;
  auto al = db_.prepare(
      "DELETE FROM alerts WHERE firing=0 AND resolved_ms<? AND NOT EXISTS (SELECT 1 FROM alert_outbox o "
      "WHERE "
      "o.alert_id=alerts.id AND o.state='pending')");
  if (!al) return std::move(al).error();
  al->bind(1, alerts_before_ms);
  return al->run();
}

Result<std::int64_t> AlertStore::drop_unconfigured(const std::vector<std::string>& configured,
                                                   std::int64_t now_ms) {
  std::lock_guard lock(mu_);
  // json_each over the configured names: no dynamic SQL.
  auto st = db_.prepare(
      "UPDATE alert_outbox SET state='failed', done_ms=?1, last_error='channel no longer configured' "
      "WHERE state='pending' AND channel NOT IN (SELECT value FROM json_each(?2))");
  if (!st) return std::move(st).error();
  st->bind(1, now_ms).bind(2, nlohmann::json(configured).dump());
  if (auto s = st->run(); !s) return std::move(s).error();
  return static_cast<std::int64_t>(db_.changes());
}

Result<std::vector<OutboxCount>> AlertStore::outbox_counts() {
  std::lock_guard lock(mu_);
  auto st = db_.prepare("SELECT channel,state,count(*) FROM alert_outbox GROUP BY 1,2 ORDER BY 1,2");
  if (!st) return std::move(st).error();
  std::vector<OutboxCount> out;
  if (auto s = each_row(*st,
                        [&](const sqlite::Stmt& r) {
                          out.push_back({r.text(0), r.text(1), r.int64(2)});
                        });
      !s)
    return std::move(s).error();
  return out;
}

Result<std::map<std::string, WindowTotals>> AlertStore::window_totals(std::int64_t since_ms) {
  std::lock_guard lock(mu_);
  // fleet_beats belongs to hub/fleet (opened before this store); the body is the heartbeat as
  // the agent sent it, already validated: errors is an object of counts, uploaded.items a count.
  auto st = db_.prepare(
      "SELECT agent, sum((SELECT coalesce(sum(value),0) FROM json_each(body,'$.errors'))), "
      "sum(coalesce(json_extract(body,'$.uploaded.items'),0)) FROM fleet_beats WHERE received_ms>=? GROUP BY "
      "agent");
  if (!st) return std::move(st).error();
  st->bind(1, since_ms);
  std::map<std::string, WindowTotals> out;
  if (auto s = each_row(*st,
                        [&](const sqlite::Stmt& r) {
                          out[r.text(0)] = WindowTotals{r.int64(1), r.int64(2)};
                        });
      !s)
    return std::move(s).error();
  return out;
}

Result<std::set<std::string>> AlertStore::institutions_sent(std::int64_t from_ms, std::int64_t to_ms) {
  std::lock_guard lock(mu_);
  // Stored times are ISO-8601 UTC text of one fixed format, so they compare as strings.
  auto st = db_.prepare(
      "SELECT id FROM institutions i WHERE "
      "EXISTS (SELECT 1 FROM object_senders o WHERE o.institution=i.id AND o.first_at>=?1 AND o.first_at<?2) "
      "OR "
      "EXISTS (SELECT 1 FROM records r WHERE r.institution=i.id AND r.received_at>=?1 AND r.received_at<?2)");
  if (!st) return std::move(st).error();
  st->bind(1, clock::iso_utc_ms(from_ms)).bind(2, clock::iso_utc_ms(to_ms));
  std::set<std::string> out;
  if (auto s = each_row(*st, [&](const sqlite::Stmt& r) { out.insert(r.text(0)); }); !s)
    return std::move(s).error();
  return out;
}

}  // namespace lightbox::hub::alerts
