#pragma once
// Read connections to one database, opened on first need and reused, so concurrent readers
// (HTTP handlers) neither share a connection nor reopen the file for every query.
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "common/sqlite/db.hpp"

namespace lightbox::sqlite {

/// A thread-safe pool of connections to `path`. Grows to the number of concurrent readers.
class ReaderPool {
 public:
  explicit ReaderPool(std::string path) : path_(std::move(path)) {}

  /// Runs `fn(Db&)` on a pooled connection; `fn` returns a Result, and so does this.
  template <class Fn>
  auto with(Fn&& fn) -> decltype(fn(std::declval<Db&>())) {
    std::unique_ptr<Db> db;
    {
      std::lock_guard lock(mu_);
      if (!idle_.empty()) {
        db = std::move(idle_.back());
        idle_.pop_back();
      }
    }
    if (!db) {
      auto opened = Db::open(path_);
      if (!opened) return std::move(opened).error();
      db = std::make_unique<Db>(std::move(*opened));
    }
    auto r = fn(*db);
    std::lock_guard lock(mu_);
    idle_.push_back(std::move(db));
    return r;
  }

 private:
  std::string path_;
  std::mutex mu_;
  std::vector<std::unique_ptr<Db>> idle_;
};

}  // namespace lightbox::sqlite
