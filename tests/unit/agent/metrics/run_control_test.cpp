#include <doctest/doctest.h>

#include <thread>

#include "agent/app/run_control.hpp"

using namespace lightbox::agent;
using Wake = app::RunControl::Wake;

TEST_CASE("RunControl: a reload wakes a wait once; a stop stays") {
  app::RunControl c;
  CHECK(c.wait_for(std::chrono::milliseconds(0)) == Wake::timeout);
  c.request_reload();
  CHECK(c.wait_for(std::chrono::milliseconds(0)) == Wake::reload);
  CHECK(c.wait_for(std::chrono::milliseconds(0)) == Wake::timeout);  // reported once
  c.request_stop();
  CHECK(c.stop_requested());
  CHECK(c.wait_for(std::chrono::milliseconds(0)) == Wake::stop);
  c.request_reload();
  CHECK(c.wait_for(std::chrono::milliseconds(0)) == Wake::stop);  // stop wins over reload
}

TEST_CASE("RunControl: a stop is forwarded to the attached pipeline, before or after attaching") {
  app::RunControl c;
  upload::Cancel first, second;
  c.attach(&first, std::chrono::seconds(3));
  CHECK_FALSE(first.requested());
  c.attach(nullptr, std::chrono::seconds(3));  // between pipelines
  c.attach(&second, std::chrono::seconds(3));
  c.request_stop();
  CHECK(second.requested());
  CHECK_FALSE(first.requested());
  CHECK_FALSE(second.expired());  // 3 s of grace
  upload::Cancel late;
  c.attach(&late, std::chrono::seconds(3));
  CHECK(late.requested());  // a stop that came first cancels a pipeline attached later
}

TEST_CASE("RunControl: an explicit stop grace wins over the pipeline's") {
  app::RunControl c;
  upload::Cancel p;
  c.attach(&p, std::chrono::seconds(60));
  c.request_stop(std::chrono::milliseconds(0));
  CHECK(p.requested());
  CHECK(p.expired());
}

TEST_CASE("RunControl: a request from another thread wakes a waiting thread") {
  app::RunControl c;
  std::thread t([&] { c.request_reload(); });
  CHECK(c.wait_for(std::chrono::seconds(30)) == Wake::reload);
  t.join();
}
