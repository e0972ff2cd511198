#include "hub/index/record_repository.hpp"

#include <mutex>

#include "common/sqlite/db.hpp"
#include "common/sqlite/reader_pool.hpp"
#include "hub/index/record_schema.hpp"
#include "hub/index/sqlite_schema.hpp"

namespace lightbox::hub::index {

namespace {

// Fields copied into record_heads so other records can be joined on them.
struct Links {
  std::string patient_id, accession_number, study_uid, exam_key, report_key, source;
};

std::string string_field(const nlohmann::json& fields, const char* name) {
  auto it = fields.find(name);
  if (it == fields.end()) return {};
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number_integer()) return it->dump();  // numeric ids from a database column
  return {};
}

Links links_of(const wire::Record& r) {
  Links l;
  l.patient_id = string_field(r.fields, "patient_id");
  l.accession_number = string_field(r.fields, "accession_number");
  l.study_uid = string_field(r.fields, "study_uid");
  l.exam_key = string_field(r.fields, "exam_key");
  l.report_key = string_field(r.fields, "report_key");
  l.source = string_field(r.fields, "source");
  return l;
}

const char* column_of(LinkField f) {
  switch (f) {
    case LinkField::patient_id:
      return "patient_id";
    case LinkField::accession_number:
      return "accession_number";
    case LinkField::study_uid:
      return "study_uid";
    case LinkField::exam_key:
      return "exam_key";
    case LinkField::report_key:
      return "report_key";
    case LinkField::source:
      return "source";
  }
  return "patient_id";
}

// Canonical text of a fields object: nlohmann's object keys are sorted, so equal content dumps
// to equal bytes, which is what the conflict check compares.
std::string canonical(const nlohmann::json& fields) {
  return fields.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

constexpr std::string_view kRecordColumns =
    "r.kind,r.key,r.version,r.fields,r.received_at,r.agent,(h.version IS NOT NULL AND h.version=r.version) ";

Result<StoredRecord> read_record(const sqlite::Stmt& st) {
  StoredRecord r;
  r.kind = st.text(0);
  r.key = st.text(1);
  r.version = st.text(2);
  try {
    r.fields = nlohmann::json::parse(st.text(3));
  } catch (const nlohmann::json::exception&) {
    return fail(Errc::db_error, "stored fields of " + r.kind + "/" + r.key + " are not JSON");
  }
  r.received_at = st.text(4);
  r.agent = st.text(5);
  r.current = st.int64(6) != 0;
  return r;
}

Result<std::vector<StoredRecord>> read_all(sqlite::Stmt& st) {
  std::vector<StoredRecord> out;
  for (;;) {
    auto row = st.step();
    if (!row) return std::move(row).error();
    if (!*row) break;
    auto r = read_record(st);
    if (!r) return std::move(r).error();
    out.push_back(std::move(*r));
  }
  return out;
}

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (!s.empty() && i <= s.size()) {
    auto j = s.find(',', i);
    if (j == std::string::npos) j = s.size();
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

}  // namespace

struct SqliteRecordRepository::Impl {
  std::string path;
  std::mutex writer_mu;
  sqlite::Db writer;
  sqlite::ReaderPool readers;

  Impl(std::string p, sqlite::Db w) : path(std::move(p)), writer(std::move(w)), readers(path) {}


  // The statements of one batch, prepared once.
  struct BatchStmts {
    sqlite::Stmt insert, select, head;
  };
  Result<BatchStmts> prepare_batch();
  Result<PutOutcome> put_one(BatchStmts& st, const std::string& institution, const std::string& agent,
                             const wire::Record& r, const std::string& now);
};

auto SqliteRecordRepository::Impl::prepare_batch() -> Result<BatchStmts> {
  auto insert = writer.prepare(
      "INSERT INTO records(institution,kind,key,version,fields,received_at,agent) VALUES(?,?,?,?,?,?,?) "
      "ON CONFLICT(institution,kind,key,version) DO NOTHING");
  if (!insert) return std::move(insert).error();
  auto select =
      writer.prepare("SELECT fields FROM records WHERE institution=? AND kind=? AND key=? AND version=?");
  if (!select) return std::move(select).error();
  // The head moves only forward: a late older version is stored but does not become current.
  auto head = writer.prepare(
      "INSERT INTO "
      "record_heads(institution,kind,key,version,received_at,patient_id,accession_number,study_uid,"
      "exam_key,report_key,source) VALUES(?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(institution,kind,key) DO UPDATE "
      "SET "
      "version=excluded.version, received_at=excluded.received_at, patient_id=excluded.patient_id, "
      "accession_number=excluded.accession_number, study_uid=excluded.study_uid, exam_key=excluded.exam_key, "
      "report_key=excluded.report_key, source=excluded.source WHERE excluded.version > record_heads.version");
  if (!head) return std::move(head).error();
  return BatchStmts{std::move(*insert), std::move(*select), std::move(*head)};
}

Result<PutOutcome> SqliteRecordRepository::Impl::put_one(BatchStmts& st, const std::string& institution,
                                                         const std::string& agent, const wire::Record& r,
                                                         const std::string& now) {
  const std::string text = canonical(r.fields);
  st.insert.bind(1, institution).bind(2, r.kind).bind(3, r.key).bind(4, r.version).bind(5, text).bind(6, now);
  st.insert.bind(7, agent);
  if (auto s = st.insert.run(); !s) return std::move(s).error();
  if (writer.changes() == 0) {
    st.select.bind(1, institution).bind(2, r.kind).bind(3, r.key).bind(4, r.version);
    auto row = st.select.step();
    if (!row) {
      st.select.reset();
      return std::move(row).error();
    }
    const bool same = *row && st.select.text(0) == text;
    const bool found = *row;
    st.select.reset();
    if (!found) return fail(Errc::db_error, "record row vanished");
    return same ? PutOutcome::AlreadyStored : PutOutcome::Conflict;
  }
  const Links l = links_of(r);
  st.head.bind(1, institution).bind(2, r.kind).bind(3, r.key).bind(4, r.version).bind(5, now);
  st.head.bind(6, l.patient_id).bind(7, l.accession_number).bind(8, l.study_uid).bind(9, l.exam_key);
  st.head.bind(10, l.report_key).bind(11, l.source);
  if (auto s = st.head.run(); !s) return std::move(s).error();
  return PutOutcome::Stored;
}

SqliteRecordRepository::SqliteRecordRepository(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SqliteRecordRepository::~SqliteRecordRepository() = default;

Result<std::unique_ptr<SqliteRecordRepository>> SqliteRecordRepository::open(const std::string& path) {
  if (path.empty() || path == ":memory:")
    return fail(Errc::invalid_argument,
                "the records index needs a file path (readers use their own connections)");
  auto db = sqlite::Db::open(path);
  if (!db) return std::move(db).error();
  // The base schema first: the records schema indexes the studies table it joins on.
  if (auto s = db->exec(kSchemaSql); !s)
    return fail(s.error().code, "cannot create index schema: " + s.error().message);
  if (auto s = db->exec(kRecordSchemaSql); !s)
    return fail(s.error().code, "cannot create records schema: " + s.error().message);
  return std::unique_ptr<SqliteRecordRepository>(
      new SqliteRecordRepository(std::make_unique<Impl>(path, std::move(*db))));
}

Result<std::vector<PutOutcome>> SqliteRecordRepository::put_records(
    const std::string& institution, const std::string& agent, const std::vector<wire::Record>& records) {
  std::vector<PutOutcome> out;
  out.reserve(records.size());
  if (records.empty()) return out;
  std::lock_guard lock(impl_->writer_mu);
  auto& db = impl_->writer;
  const std::string now = utc_now_iso();
  sqlite::Txn txn(db);
  if (!txn.begun()) return txn.begun().error();
  auto stmts = impl_->prepare_batch();
  if (!stmts) return std::move(stmts).error();
  for (const auto& r : records) {
    auto o = impl_->put_one(*stmts, institution, agent, r, now);
    if (!o) return std::move(o).error();  // a database failure fails the whole batch (rolled back)
    out.push_back(*o);
  }
  if (auto s = txn.commit(); !s) return std::move(s).error();
  return out;
}

Result<std::vector<StoredRecord>> SqliteRecordRepository::versions(const std::string& institution,
                                                                   const std::string& kind,
                                                                   const std::string& key) {
  return impl_->readers.with([&](sqlite::Db& db) -> Result<std::vector<StoredRecord>> {
    auto st = db.prepare(std::string("SELECT ") + std::string(kRecordColumns) +
                         "FROM records r LEFT JOIN record_heads h ON h.institution=r.institution AND "
                         "h.kind=r.kind AND h.key=r.key WHERE r.institution=? AND r.kind=? AND r.key=? "
                         "ORDER BY r.version DESC");
    if (!st) return std::move(st).error();
    st->bind(1, institution).bind(2, kind).bind(3, key);
    return read_all(*st);
  });
}

Result<std::optional<StoredRecord>> SqliteRecordRepository::current(const std::string& institution,
                                                                    const std::string& kind,
                                                                    const std::string& key) {
  return impl_->readers.with([&](sqlite::Db& db) -> Result<std::optional<StoredRecord>> {
    auto st =
        db.prepare(std::string("SELECT ") + std::string(kRecordColumns) +
                   "FROM record_heads h JOIN records r ON r.institution=h.institution AND r.kind=h.kind "
                   "AND r.key=h.key AND r.version=h.version WHERE h.institution=? AND h.kind=? AND h.key=?");
    if (!st) return std::move(st).error();
    st->bind(1, institution).bind(2, kind).bind(3, key);
    auto all = read_all(*st);
    if (!all) return std::move(all).error();
    if (all->empty()) return std::optional<StoredRecord>();
    return std::optional<StoredRecord>(std::move(all->front()));
  });
}

Result<std::vector<StoredRecord>> SqliteRecordRepository::list_current(const std::string& institution,
                                                                       const RecordQuery& q) {
  return impl_->readers.with([&](sqlite::Db& db) -> Result<std::vector<StoredRecord>> {
    std::string sql = std::string("SELECT ") + std::string(kRecordColumns) +
                      "FROM record_heads h JOIN records r ON r.institution=h.institution AND r.kind=h.kind "
                      "AND r.key=h.key AND r.version=h.version WHERE h.institution=?1 AND h.kind=?2 ";
    // The column name comes from a fixed table, never from the request.
    if (q.by) sql += std::string("AND h.") + column_of(*q.by) + "=?3 ";
    sql += "ORDER BY h.received_at DESC, h.key DESC LIMIT ?4 OFFSET ?5";
    auto st = db.prepare(sql);
    if (!st) return std::move(st).error();
    st->bind(1, institution).bind(2, q.kind).bind(4, q.limit).bind(5, q.offset);
    if (q.by) st->bind(3, q.value);
    return read_all(*st);
  });
}

Result<std::vector<StudySummary>> SqliteRecordRepository::find_studies(
    const std::string& institution, const std::vector<std::string>& study_uids,
    const std::string& accession_number) {
  return impl_->readers.with([&](sqlite::Db& db) -> Result<std::vector<StudySummary>> {
    std::string sql =
        "SELECT s.study_uid,s.patient_id,s.patient_name,s.study_date,s.accession_number,s.institution,"
        "(SELECT count(*) FROM series se WHERE se.institution=s.institution AND se.study_uid=s.study_uid),"
        "(SELECT count(*) FROM instances i WHERE i.institution=s.institution AND i.study_uid=s.study_uid),"
        "(SELECT group_concat(m, ',') FROM (SELECT DISTINCT se.modality AS m FROM series se "
        " WHERE se.institution=s.institution AND se.study_uid=s.study_uid AND se.modality<>'' ORDER BY m)) "
        "FROM studies s WHERE s.institution=?1 AND ((?2<>'' AND s.accession_number=?2)";
    for (std::size_t i = 0; i < study_uids.size(); ++i) sql += " OR s.study_uid=?" + std::to_string(i + 3);
    sql += ") ORDER BY s.study_date DESC, s.study_uid";
    auto st = db.prepare(sql);
    if (!st) return std::move(st).error();
    st->bind(1, institution).bind(2, accession_number);
    for (std::size_t i = 0; i < study_uids.size(); ++i) st->bind(static_cast<int>(i + 3), study_uids[i]);
    std::vector<StudySummary> out;
    for (;;) {
      auto row = st->step();
      if (!row) return std::move(row).error();
      if (!*row) break;
      StudySummary s;
      s.study_uid = st->text(0);
      s.patient_id = st->text(1);
      s.patient_name = st->text(2);
      s.study_date = st->text(3);
      s.accession_number = st->text(4);
      s.institution = st->text(5);
      s.series_count = st->int64(6);
      s.instance_count = st->int64(7);
      s.modalities = split_commas(st->text(8));
      out.push_back(std::move(s));
    }
    return out;
  });
}

}  // namespace lightbox::hub::index
