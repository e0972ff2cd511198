#include "common/error/errc.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "common/error/result.hpp"
#include "common/wire/protocol.hpp"

using namespace lightbox;

TEST_CASE("each code maps to one HTTP status and name, and names round-trip") {
  CHECK(http_status(Errc::hash_mismatch) == 400);
  CHECK(http_status(Errc::unauthorized) == 401);
  CHECK(http_status(Errc::forbidden) == 403);
  CHECK(http_status(Errc::payload_too_large) == 413);
  CHECK(http_status(Errc::storage_full) == 507);
  for (auto e : {Errc::not_found, Errc::rejected, Errc::busy, Errc::storage_full, Errc::hash_mismatch})
    CHECK(errc_from_name(errc_name(e)) == e);
  std::error_code ec = Errc::timeout;
  CHECK(ec.category().name() == std::string("lightbox"));
}

TEST_CASE("retry semantics: client errors are permanent, 408/429/5xx/507 transient") {
  CHECK_FALSE(is_transient(errc_from_http_status(400)));
  CHECK_FALSE(is_transient(errc_from_http_status(403)));
  CHECK_FALSE(is_transient(errc_from_http_status(422)));
  CHECK(is_transient(errc_from_http_status(408)));
  CHECK(is_transient(errc_from_http_status(429)));
  CHECK(is_transient(errc_from_http_status(503)));
  CHECK(is_transient(errc_from_http_status(507)));
  CHECK(is_transient(errc_from_http_status(500)));
}

TEST_CASE("error bodies carry error, message and field") {
  Error e = fail(Errc::invalid_argument, "not a sha256", "sha256");
  auto j = e.to_json();
  CHECK(j["error"] == "invalid_argument");
  CHECK(j["message"] == "not a sha256");
  CHECK(j["field"] == "sha256");
  CHECK(fail(Errc::internal, "x").to_json()["field"].is_null());
  auto back = Error::from_json(j);
  CHECK(back.code == Errc::invalid_argument);
  CHECK(back.field == "sha256");
}

TEST_CASE("Result holds a value or an error") {
  Result<int> a = 5;
  CHECK(a.ok());
  CHECK(*a == 5);
  Result<int> b = fail(Errc::not_found, "none");
  CHECK_FALSE(b.ok());
  CHECK(b.error().code == Errc::not_found);
  Status s;
  CHECK(s.ok());
}

TEST_CASE("receipts round-trip through JSON and reject junk") {
  wire::Receipt r;
  r.sha256 = std::string(64, 'a');
  r.outcome = wire::StoreOutcome::AlreadyStored;
  r.size = 42;
  r.study_uid = "1.2.3";
  auto back = wire::Receipt::from_json(r.to_json());
  REQUIRE(back.ok());
  CHECK(back->sha256 == r.sha256);
  CHECK(back->outcome == wire::StoreOutcome::AlreadyStored);
  CHECK(back->size == 42);
  CHECK(back->study_uid == "1.2.3");
  CHECK_FALSE(wire::Receipt::from_json(nlohmann::json{{"outcome", "Stored"}}).ok());
  CHECK_FALSE(wire::Receipt::from_json(nlohmann::json{{"sha256", "x"}, {"outcome", "Maybe"}}).ok());
}
