#include "agent/app/stop_signals.hpp"

#include <csignal>
#include <pthread.h>

namespace lightbox::agent::app {
namespace {

sigset_t stop_set() {
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, SIGTERM);
  sigaddset(&s, SIGINT);
  sigaddset(&s, SIGHUP);   // reload the config
  sigaddset(&s, SIGUSR1);  // our own "shut the watcher down" signal
  return s;
}

}  // namespace

void block_stop_signals() {
  sigset_t s = stop_set();
  pthread_sigmask(SIG_BLOCK, &s, nullptr);
}

StopSignals::StopSignals(RunControl& control) {
  thread_ = std::thread([&control] {
    sigset_t s = stop_set();
    for (;;) {
      int sig = 0;
      if (sigwait(&s, &sig) != 0) continue;
      if (sig == SIGUSR1) return;
      if (sig == SIGHUP) control.request_reload();
      else control.request_stop();
    }
  });
}

StopSignals::~StopSignals() {
  pthread_kill(thread_.native_handle(), SIGUSR1);
  thread_.join();
}

}  // namespace lightbox::agent::app
