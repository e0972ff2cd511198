#include "hub/index/repository.hpp"

#include <chrono>
#include <condition_variable>
#include <ctime>
#include <deque>
#include <mutex>

#include "common/clock/clock.hpp"
#include "common/sqlite/db.hpp"
#include "common/sqlite/reader_pool.hpp"
#include "hub/index/sqlite_schema.hpp"

namespace lightbox::hub::index {

std::string utc_now_iso() { return clock::iso_utc_ms(clock::now_ms()); }

namespace {

// One caller waiting for its record to be committed by the current batch leader.
struct Pending {
  const ObjectRecord* rec;
  Result<RecordResult> result{fail(Errc::internal, "not committed")};
  bool done = false;
};

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i <= s.size() && !s.empty()) {
    auto j = s.find(',', i);
    if (j == std::string::npos) j = s.size();
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

}  // namespace

struct SqliteRepository::Impl {
  std::string path;
  std::mutex writer_mu;
  sqlite::Db writer;

  sqlite::ReaderPool readers;

  std::mutex batch_mu;
  std::condition_variable batch_cv;
  std::deque<Pending*> queue;
  bool leader_active = false;
  std::uint64_t commits = 0;

  Impl(std::string p, sqlite::Db w) : path(std::move(p)), writer(std::move(w)), readers(path) {}


  Result<RecordResult> apply(const ObjectRecord& rec, const std::string& now);
  void run_batch(std::vector<Pending*>& batch);
};

Result<RecordResult> SqliteRepository::Impl::apply(const ObjectRecord& rec, const std::string& now) {
  auto& db = writer;
  RecordResult out;
  {
    auto st = db.prepare(
        "INSERT INTO objects(sha256,size,kind,content_type,filename,stored_at) VALUES(?,?,?,?,?,?) "
        "ON CONFLICT(sha256) DO NOTHING");
    if (!st) return std::move(st).error();
    st->bind(1, rec.sha256).bind(2, rec.size).bind(3, wire::to_string(rec.kind)).bind(4, rec.content_type);
    st->bind(5, rec.filename).bind(6, now);
    if (auto s = st->run(); !s) return std::move(s).error();
  }
  if (db.changes() == 1) {
    out.outcome = wire::StoreOutcome::Stored;
    out.stored_at = now;
  } else {
    auto st = db.prepare("SELECT stored_at, size FROM objects WHERE sha256=?");
    if (!st) return std::move(st).error();
    st->bind(1, rec.sha256);
    auto row = st->step();
    if (!row) return std::move(row).error();
    if (!*row) return fail(Errc::db_error, "object row vanished");
    if (static_cast<std::uint64_t>(st->int64(1)) != rec.size)
      return fail(Errc::conflict, "object " + rec.sha256 + " is indexed with a different size");
    out.outcome = wire::StoreOutcome::AlreadyStored;
    out.stored_at = st->text(0);
  }
  {
    auto st = db.prepare(
        "INSERT INTO object_senders(sha256,institution,agent,source,first_at) VALUES(?,?,?,?,?) "
        "ON CONFLICT DO NOTHING");
    if (!st) return std::move(st).error();
    st->bind(1, rec.sha256).bind(2, rec.institution).bind(3, rec.agent).bind(4, rec.source).bind(5, now);
    if (auto s = st->run(); !s) return std::move(s).error();
  }
  if (!rec.dicom) return out;
  const auto& f = *rec.dicom;
  {
    auto st = db.prepare(
        "INSERT INTO studies(institution,study_uid,patient_id,patient_name,study_date,study_time,description,"
        "accession_number,updated_at) VALUES(?,?,?,?,?,?,?,?,?) ON CONFLICT(institution,study_uid) DO UPDATE "
        "SET "
        "patient_id=excluded.patient_id, patient_name=excluded.patient_name, study_date=excluded.study_date, "
        "study_time=excluded.study_time, description=excluded.description, "
        "accession_number=excluded.accession_number, updated_at=excluded.updated_at");
    if (!st) return std::move(st).error();
    st->bind(1, rec.institution).bind(2, f.study_instance_uid).bind(3, f.patient_id).bind(4, f.patient_name);
    st->bind(5, f.study_date).bind(6, f.study_time).bind(7, f.study_description).bind(8, f.accession_number);
    st->bind(9, now);
    if (auto s = st->run(); !s) return std::move(s).error();
  }
  {
    auto st = db.prepare(
        "INSERT INTO series(institution,series_uid,study_uid,modality,series_number,description) "
        "VALUES(?,?,?,?,?,?) ON CONFLICT(institution,series_uid) DO UPDATE SET study_uid=excluded.study_uid, "
        "modality=excluded.modality, series_number=excluded.series_number, description=excluded.description");
    if (!st) return std::move(st).error();
    st->bind(1, rec.institution)
        .bind(2, f.series_instance_uid)
        .bind(3, f.study_instance_uid)
        .bind(4, f.modality);
    st->bind(5, f.series_number).bind(6, f.series_description);
    if (auto s = st->run(); !s) return std::move(s).error();
  }
  {
    auto st = db.prepare(
        "INSERT INTO "
        "instances(institution,sop_instance_uid,series_uid,study_uid,sop_class_uid,instance_number,"
        "sha256,size,transfer_syntax_uid) VALUES(?,?,?,?,?,?,?,?,?) ON "
        "CONFLICT(institution,sop_instance_uid) "
        "DO UPDATE SET series_uid=excluded.series_uid, study_uid=excluded.study_uid, "
        "sop_class_uid=excluded.sop_class_uid, instance_number=excluded.instance_number, "
        "sha256=excluded.sha256, "
        "size=excluded.size, transfer_syntax_uid=excluded.transfer_syntax_uid");
    if (!st) return std::move(st).error();
    st->bind(1, rec.institution).bind(2, f.sop_instance_uid).bind(3, f.series_instance_uid);
    st->bind(4, f.study_instance_uid).bind(5, f.sop_class_uid).bind(6, f.instance_number).bind(7, rec.sha256);
    st->bind(8, rec.size).bind(9, f.transfer_syntax_uid);
    if (auto s = st->run(); !s) return std::move(s).error();
  }
  return out;
}

void SqliteRepository::Impl::run_batch(std::vector<Pending*>& batch) {
  std::lock_guard lock(writer_mu);
  std::string now = utc_now_iso();
  sqlite::Txn txn(writer);
  if (!txn.begun()) {
    for (auto* p : batch) p->result = txn.begun().error();
    return;
  }
  // Each record gets a savepoint so one bad record fails alone, not its whole batch.
  for (auto* p : batch) {
    if (auto s = writer.exec("SAVEPOINT rec"); !s) {
      p->result = std::move(s).error();
      continue;
    }
    p->result = apply(*p->rec, now);
    if (!p->result.ok()) (void)writer.exec("ROLLBACK TO rec");
    (void)writer.exec("RELEASE rec");
  }
  if (auto s = txn.commit(); !s) {
    for (auto* p : batch)
      if (p->result.ok()) p->result = s.error();
    return;
  }
  ++commits;
}

SqliteRepository::SqliteRepository(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SqliteRepository::~SqliteRepository() = default;

Result<std::unique_ptr<SqliteRepository>> SqliteRepository::open(const std::string& path) {
  if (path.empty() || path == ":memory:")
    return fail(Errc::invalid_argument, "the index needs a file path (readers use their own connections)");
  auto db = sqlite::Db::open(path);
  if (!db) return std::move(db).error();
  if (auto s = db->exec(kSchemaSql); !s)
    return fail(s.error().code, "cannot create index schema: " + s.error().message);
  return std::unique_ptr<SqliteRepository>(
      new SqliteRepository(std::make_unique<Impl>(path, std::move(*db))));
}

std::uint64_t SqliteRepository::commit_count() const {
  std::lock_guard lock(impl_->batch_mu);
  return impl_->commits;
}

Result<RecordResult> SqliteRepository::record_object(const ObjectRecord& rec) {
  auto& m = *impl_;
  Pending me{&rec};
  std::unique_lock lock(m.batch_mu);
  m.queue.push_back(&me);
  // Leader/follower group commit: whoever finds no batch running commits everything queued so
  // far in one transaction; the others wait for their record to be marked done.
  while (!me.done) {
    if (m.leader_active) {
      m.batch_cv.wait(lock);
      continue;
    }
    m.leader_active = true;
    std::vector<Pending*> batch(m.queue.begin(), m.queue.end());
    m.queue.clear();
    lock.unlock();
    m.run_batch(batch);
    lock.lock();
    for (auto* p : batch) p->done = true;
    m.leader_active = false;
    m.batch_cv.notify_all();
  }
  return std::move(me.result);
}

Result<Institution> SqliteRepository::create_institution(const std::string& id, const std::string& name) {
  if (id.empty()) return fail(Errc::invalid_argument, "institution id is empty", "id");
  std::lock_guard lock(impl_->writer_mu);
  auto& db = impl_->writer;
  auto ins =
      db.prepare("INSERT INTO institutions(id,name,created_at) VALUES(?,?,?) ON CONFLICT(id) DO NOTHING");
  if (!ins) return std::move(ins).error();
  ins->bind(1, id).bind(2, name).bind(3, utc_now_iso());
  if (auto s = ins->run(); !s) return std::move(s).error();
  auto sel = db.prepare("SELECT id,name,created_at FROM institutions WHERE id=?");
  if (!sel) return std::move(sel).error();
  sel->bind(1, id);
  auto row = sel->step();
  if (!row) return std::move(row).error();
  if (!*row) return fail(Errc::db_error, "institution row vanished");
  return Institution{sel->text(0), sel->text(1), sel->text(2)};
}

Status SqliteRepository::put_agent(const std::string& institution, const std::string& agent,
                                   const std::string& token_sha256) {
  if (agent.empty()) return fail(Errc::invalid_argument, "agent id is empty", "agent");
  std::lock_guard lock(impl_->writer_mu);
  auto& db = impl_->writer;
  sqlite::Txn txn(db);
  if (!txn.begun()) return txn.begun();
  {
    auto st = db.prepare("SELECT 1 FROM institutions WHERE id=?");
    if (!st) return std::move(st).error();
    st->bind(1, institution);
    auto row = st->step();
    if (!row) return std::move(row).error();
    if (!*row) return fail(Errc::not_found, "no institution '" + institution + "'", "institution");
  }
  {
    auto st = db.prepare("SELECT institution FROM agents WHERE id=?");
    if (!st) return std::move(st).error();
    st->bind(1, agent);
    auto row = st->step();
    if (!row) return std::move(row).error();
    if (*row && st->text(0) != institution)
      return fail(Errc::conflict, "agent '" + agent + "' belongs to institution '" + st->text(0) + "'",
                  "agent");
  }
  auto st = db.prepare(
      "INSERT INTO agents(id,institution,token_sha256,revoked,created_at) VALUES(?,?,?,0,?) "
      "ON CONFLICT(id) DO UPDATE SET token_sha256=excluded.token_sha256, revoked=0, revoked_at=NULL");
  if (!st) return std::move(st).error();
  st->bind(1, agent).bind(2, institution).bind(3, token_sha256).bind(4, utc_now_iso());
  if (auto s = st->run(); !s) return s;
  return txn.commit();
}

Status SqliteRepository::revoke_agent(const std::string& agent) {
  std::lock_guard lock(impl_->writer_mu);
  auto& db = impl_->writer;
  auto st = db.prepare("UPDATE agents SET revoked=1, revoked_at=? WHERE id=?");
  if (!st) return std::move(st).error();
  st->bind(1, utc_now_iso()).bind(2, agent);
  if (auto s = st->run(); !s) return s;
  if (db.changes() == 0) return fail(Errc::not_found, "no agent '" + agent + "'", "agent");
  return {};
}

Result<std::vector<AgentInfo>> SqliteRepository::list_agents() {
  return impl_->readers.with([](sqlite::Db& db) -> Result<std::vector<AgentInfo>> {
    auto st = db.prepare("SELECT id,institution,revoked,created_at FROM agents ORDER BY id");
    if (!st) return std::move(st).error();
    std::vector<AgentInfo> out;
    for (;;) {
      auto row = st->step();
      if (!row) return std::move(row).error();
      if (!*row) break;
      out.push_back(AgentInfo{st->text(0), st->text(1), st->int64(2) != 0, st->text(3)});
    }
    return out;
  });
}

Result<Credential> SqliteRepository::find_credential(const std::string& token_sha256) {
  return impl_->readers.with([&](sqlite::Db& db) -> Result<Credential> {
    auto st = db.prepare("SELECT id,institution,revoked FROM agents WHERE token_sha256=?");
    if (!st) return std::move(st).error();
    st->bind(1, token_sha256);
    auto row = st->step();
    if (!row) return std::move(row).error();
    if (*row) return Credential{st->text(0), st->text(1), st->int64(2) != 0, Role::agent};
    auto op = db.prepare("SELECT name,revoked FROM operators WHERE token_sha256=?");
    if (!op) return std::move(op).error();
    op->bind(1, token_sha256);
    auto orow = op->step();
    if (!orow) return std::move(orow).error();
    if (!*orow) return fail(Errc::not_found, "unknown credential");
    return Credential{op->text(0), "", op->int64(1) != 0, Role::ops};
  });
}

std::string_view to_string(Role r) { return r == Role::ops ? "ops" : "agent"; }

Status SqliteRepository::put_operator(const std::string& name, const std::string& token_sha256) {
  if (name.empty()) return fail(Errc::invalid_argument, "operator name is empty", "name");
  std::lock_guard lock(impl_->writer_mu);
  auto& db = impl_->writer;
  auto st = db.prepare(
      "INSERT INTO operators(name,token_sha256,revoked,created_at) VALUES(?,?,0,?) "
      "ON CONFLICT(name) DO UPDATE SET token_sha256=excluded.token_sha256, revoked=0");
  if (!st) return std::move(st).error();
  st->bind(1, name).bind(2, token_sha256).bind(3, utc_now_iso());
  return st->run();
}

Status SqliteRepository::revoke_operator(const std::string& name) {
  std::lock_guard lock(impl_->writer_mu);
  auto& db = impl_->writer;
  auto st = db.prepare("UPDATE operators SET revoked=1 WHERE name=?");
  if (!st) return std::move(st).error();
  st->bind(1, name);
  if (auto s = st->run(); !s) return s;
  if (db.changes() == 0) return fail(Errc::not_found, "no operator '" + name + "'", "name");
  return {};
}

Result<std::vector<OperatorInfo>> SqliteRepository::list_operators() {
  return impl_->readers.with([](sqlite::Db& db) -> Result<std::vector<OperatorInfo>> {
    auto st = db.prepare("SELECT name,revoked,created_at FROM operators ORDER BY name");
    if (!st) return std::move(st).error();
    std::vector<OperatorInfo> out;
    for (;;) {
      auto row = st->step();
      if (!row) return std::move(row).error();
      if (!*row) break;
      out.push_back(OperatorInfo{st->text(0), st->int64(1) != 0, st->text(2)});
    }
    return out;
  });
}

Result<std::vector<Institution>> SqliteRepository::list_institutions() {
  return impl_->readers.with([](sqlite::Db& db) -> Result<std::vector<Institution>> {
    auto st = db.prepare("SELECT id,name,created_at FROM institutions ORDER BY id");
    if (!st) return std::move(st).error();
    std::vector<Institution> out;
    for (;;) {
      auto row = st->step();
      if (!row) return std::move(row).error();
      if (!*row) break;
      out.push_back(Institution{st->text(0), st->text(1), st->text(2)});
    }
    return out;
  });
}

Result<ObjectInfo> SqliteRepository::find_object(const std::string& sha256, const std::string& institution) {
  return impl_->readers.with([&](sqlite::Db& db) -> Result<ObjectInfo> {
    auto st = db.prepare(
        "SELECT o.sha256,o.size,o.kind,o.content_type,o.filename,o.stored_at FROM objects o WHERE o.sha256=? "
        "AND EXISTS(SELECT 1 FROM object_senders s WHERE s.sha256=o.sha256 AND s.institution=?)");
    if (!st) return std::move(st).error();
    st->bind(1, sha256).bind(2, institution);
    auto row = st->step();
    if (!row) return std::move(row).error();
    if (!*row) return fail(Errc::not_found, "no object " + sha256);
    ObjectInfo o;
    o.sha256 = st->text(0);
    o.size = static_cast<std::uint64_t>(st->int64(1));
    o.kind = wire::parse_object_kind(st->text(2)).value_or(wire::ObjectKind::attachment);
    o.content_type = st->text(3);
    o.filename = st->text(4);
    o.stored_at = st->text(5);
    return o;
  });
}

namespace {

constexpr std::string_view kStudySelect =
    "SELECT s.study_uid,s.patient_id,s.patient_name,s.study_date,s.accession_number,s.institution,"
    "(SELECT count(*) FROM series se WHERE se.institution=s.institution AND se.study_uid=s.study_uid),"
    "(SELECT count(*) FROM instances i WHERE i.institution=s.institution AND i.study_uid=s.study_uid),"
    "(SELECT group_concat(m, ',') FROM (SELECT DISTINCT se.modality AS m FROM series se "
    " WHERE se.institution=s.institution AND se.study_uid=s.study_uid AND se.modality<>'' ORDER BY m)) "
    "FROM studies s ";

StudySummary read_summary(const sqlite::Stmt& st) {
  StudySummary s;
  s.study_uid = st.text(0);
  s.patient_id = st.text(1);
  s.patient_name = st.text(2);
  s.study_date = st.text(3);
  s.accession_number = st.text(4);
  s.institution = st.text(5);
  s.series_count = st.int64(6);
  s.instance_count = st.int64(7);
  s.modalities = split_commas(st.text(8));
  return s;
}

}  // namespace

Result<std::vector<StudySummary>> SqliteRepository::list_studies(const std::string& institution,
                                                                 const StudyQuery& q) {
  return impl_->readers.with([&](sqlite::Db& db) -> Result<std::vector<StudySummary>> {
    std::string sql(kStudySelect);
    sql +=
        "WHERE s.institution=?1 AND (?2='' OR s.patient_id=?2) ORDER BY s.study_date DESC, s.study_uid "
        "LIMIT ?3 OFFSET ?4";
    auto st = db.prepare(sql);
    if (!st) return std::move(st).error();
    st->bind(1, institution).bind(2, q.patient_id).bind(3, q.limit).bind(4, q.offset);
    std::vector<StudySummary> out;
    for (;;) {
      auto row = st->step();
      if (!row) return std::move(row).error();
      if (!*row) break;
      out.push_back(read_summary(*st));
    }
    return out;
  });
}

Result<StudyDetail> SqliteRepository::get_study(const std::string& institution,
                                                const std::string& study_uid) {
  return impl_->readers.with([&](sqlite::Db& db) -> Result<StudyDetail> {
    StudyDetail d;
    {
      auto st = db.prepare(std::string(kStudySelect) + "WHERE s.institution=?1 AND s.study_uid=?2");
      if (!st) return std::move(st).error();
      st->bind(1, institution).bind(2, study_uid);
      auto row = st->step();
      if (!row) return std::move(row).error();
      if (!*row) return fail(Errc::not_found, "no study " + study_uid);
      d.study = read_summary(*st);
    }
    auto st = db.prepare(
        "SELECT se.series_uid,se.modality,se.series_number,se.description,i.sop_instance_uid,i.sop_class_uid,"
        "i.instance_number,i.sha256,i.size,i.transfer_syntax_uid FROM series se LEFT JOIN instances i "
        "ON i.institution=se.institution AND i.series_uid=se.series_uid "
        "WHERE se.institution=?1 AND se.study_uid=?2 ORDER BY se.series_number, se.series_uid, "
        "i.instance_number, i.sop_instance_uid");
    if (!st) return std::move(st).error();
    st->bind(1, institution).bind(2, study_uid);
    for (;;) {
      auto row = st->step();
      if (!row) return std::move(row).error();
      if (!*row) break;
      if (d.series.empty() || d.series.back().series_uid != st->text(0)) {
        d.series.push_back(SeriesDetail{st->text(0), st->text(1), st->int64(2), st->text(3), {}});
      }
      if (st->is_null(4)) continue;
      d.series.back().instances.push_back(InstanceInfo{st->text(4), st->text(5), st->int64(6), st->text(7),
                                                       static_cast<std::uint64_t>(st->int64(8)),
                                                       st->text(9)});
    }
    return d;
  });
}

}  // namespace lightbox::hub::index
