#include "hub/fleet/repository.hpp"

#include "hub/index/sqlite_schema.hpp"

namespace lightbox::hub::fleet {
namespace {

constexpr std::string_view kFleetSchema = R"(
CREATE TABLE IF NOT EXISTS fleet_beats (
  id INTEGER PRIMARY KEY,
  agent TEXT NOT NULL,
  institution TEXT NOT NULL,
  received_ms INTEGER NOT NULL,
  body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS fleet_beats_agent ON fleet_beats(agent, received_ms);
)";

Result<Beat> read_beat(const sqlite::Stmt& st) {
  nlohmann::json body;
  try {
    body = nlohmann::json::parse(st.text(3));
  } catch (const nlohmann::json::exception&) {
    return fail(Errc::db_error, "stored heartbeat of " + st.text(0) + " is not JSON");
  }
  auto b = parse_heartbeat(body);
  if (!b) return fail(Errc::db_error, "stored heartbeat of " + st.text(0) + ": " + b.error().message);
  b->agent = st.text(0);
  b->institution = st.text(1);
  b->received_ms = st.int64(2);
  return b;
}

// Every row of a statement selecting (agent, institution, received_ms, body).
Result<std::vector<Beat>> read_beats(sqlite::Stmt& st) {
  std::vector<Beat> out;
  for (;;) {
    auto row = st.step();
    if (!row) return std::move(row).error();
    if (!*row) break;
    auto b = read_beat(st);
    if (!b) return std::move(b).error();
    out.push_back(std::move(*b));
  }
  return out;
}

}  // namespace

Result<std::unique_ptr<FleetRepository>> FleetRepository::open(const std::string& path) {
  auto db = sqlite::Db::open(path);
  if (!db) return std::move(db).error();
  // The base schema first: the agent list joins the agents table.
  if (auto s = db->exec(index::kSchemaSql); !s) return std::move(s).error();
  if (auto s = db->exec(kFleetSchema); !s) return std::move(s).error();
  return std::unique_ptr<FleetRepository>(new FleetRepository(std::move(*db)));
}

Status FleetRepository::put(const Beat& b) {
  std::lock_guard lock(mu_);
  auto ins = db_.prepare("INSERT INTO fleet_beats(agent,institution,received_ms,body) VALUES(?,?,?,?)");
  if (!ins) return std::move(ins).error();
  ins->bind(1, b.agent).bind(2, b.institution).bind(3, b.received_ms).bind(4, b.body.dump());
  if (auto s = ins->run(); !s) return s;
  auto prune = db_.prepare("DELETE FROM fleet_beats WHERE agent=? AND received_ms<?");
  if (!prune) return std::move(prune).error();
  prune->bind(1, b.agent).bind(2, b.received_ms - kHistoryMs);
  return prune->run();
}

Result<std::vector<Beat>> FleetRepository::recent_locked(const std::string& agent, int n) {
  auto st = db_.prepare(
      "SELECT agent,institution,received_ms,body FROM fleet_beats WHERE agent=? ORDER BY received_ms DESC, "
      "id DESC "
      "LIMIT ?");
  if (!st) return std::move(st).error();
  st->bind(1, agent).bind(2, n);
  return read_beats(*st);
}

Result<std::vector<AgentBeats>> FleetRepository::agents(const std::string& institution) {
  std::lock_guard lock(mu_);
  auto st = db_.prepare(
      "SELECT id,institution FROM agents WHERE (?1='' OR institution=?1) AND revoked=0 ORDER BY "
      "institution,id");
  if (!st) return std::move(st).error();
  st->bind(1, institution);
  std::vector<AgentBeats> out;
  for (;;) {
    auto row = st->step();
    if (!row) return std::move(row).error();
    if (!*row) break;
    out.push_back(AgentBeats{st->text(0), st->text(1), {}});
  }
  for (auto& a : out) {
    auto r = recent_locked(a.agent, 3);
    if (!r) return std::move(r).error();
    a.recent = std::move(*r);
  }
  return out;
}

Result<AgentBeats> FleetRepository::agent(const std::string& institution, const std::string& agent) {
  // One agent: look it up directly instead of loading every agent's recent beats.
  std::lock_guard lock(mu_);
  auto st = db_.prepare(
      "SELECT id,institution FROM agents WHERE id=?1 AND (?2='' OR institution=?2) AND revoked=0");
  if (!st) return std::move(st).error();
  st->bind(1, agent).bind(2, institution);
  auto row = st->step();
  if (!row) return std::move(row).error();
  if (!*row) return fail(Errc::not_found, "no agent '" + agent + "' in this institution", "agent");
  AgentBeats a{st->text(0), st->text(1), {}};
  auto r = recent_locked(a.agent, 3);
  if (!r) return std::move(r).error();
  a.recent = std::move(*r);
  return a;
}

Result<std::vector<Beat>> FleetRepository::history(const std::string& agent, std::int64_t since_ms) {
  std::lock_guard lock(mu_);
  auto st = db_.prepare(
      "SELECT agent,institution,received_ms,body FROM fleet_beats WHERE agent=? AND received_ms>=? ORDER BY "
      "received_ms, id");
  if (!st) return std::move(st).error();
  st->bind(1, agent).bind(2, since_ms);
  return read_beats(*st);
}

Result<StoreTotals> FleetRepository::store_totals() {
  std::lock_guard lock(mu_);
  auto st = db_.prepare("SELECT count(*), coalesce(sum(size),0) FROM objects");
  if (!st) return std::move(st).error();
  auto row = st->step();
  if (!row) return std::move(row).error();
  return StoreTotals{st->int64(0), st->int64(1)};
}

}  // namespace lightbox::hub::fleet
