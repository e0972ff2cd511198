// Issue 4 (ops role): operator credentials and the institution list in the index.
#include <doctest/doctest.h>

#include "common/hash/sha256.hpp"
#include "hub/index/repository.hpp"
#include "tests/unit/hub/test_support.hpp"

using namespace lightbox;
using namespace lightbox::hub;

TEST_CASE("index: operator tokens resolve to the ops role, agents keep the agent role") {
  test::ScratchDir dir;
  auto repo = index::SqliteRepository::open(dir / "index.db");
  REQUIRE(repo.ok());
  auto& r = **repo;
  REQUIRE(r.create_institution("h2", "Two").ok());
  REQUIRE(r.create_institution("h1", "One").ok());
  const std::string agent_tok = hash::sha256_hex("lbt_agent");
  const std::string op_tok = hash::sha256_hex("lbo_ops");
  REQUIRE(r.put_agent("h1", "a1", agent_tok).ok());
  CHECK(r.put_operator("", op_tok).error().field == "name");
  REQUIRE(r.put_operator("zhang", op_tok).ok());

  auto a = r.find_credential(agent_tok);
  REQUIRE(a.ok());
  CHECK(a->role == index::Role::agent);
  CHECK(a->institution == "h1");
  auto o = r.find_credential(op_tok);
  REQUIRE(o.ok());
  CHECK(o->role == index::Role::ops);
  CHECK(o->agent == "zhang");
  CHECK(o->institution.empty());
  CHECK_FALSE(o->revoked);
  CHECK(index::to_string(o->role) == "ops");
  CHECK(index::to_string(a->role) == "agent");

  // Re-issuing replaces the operator's token.
  const std::string op_tok2 = hash::sha256_hex("lbo_new");
  REQUIRE(r.put_operator("zhang", op_tok2).ok());
  CHECK(r.find_credential(op_tok).error().code == Errc::not_found);
  CHECK(r.find_credential(op_tok2)->role == index::Role::ops);
  auto ops = r.list_operators();
  REQUIRE(ops.ok());
  REQUIRE(ops->size() == 1);
  CHECK((*ops)[0].name == "zhang");
  CHECK_FALSE((*ops)[0].revoked);

  // Revocation: the token still resolves but says revoked (the API answers 401).
  REQUIRE(r.revoke_operator("zhang").ok());
  CHECK(r.find_credential(op_tok2)->revoked);
  CHECK(r.list_operators()->at(0).revoked);
  CHECK(r.revoke_operator("ghost").error().code == Errc::not_found);

  auto inst = r.list_institutions();
  REQUIRE(inst.ok());
  REQUIRE(inst->size() == 2);
  CHECK((*inst)[0].id == "h1");
  CHECK((*inst)[1].name == "Two");
}
