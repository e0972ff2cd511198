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
  sigaddset(&s, SIGUSR1);  // our own "shut the watcher down" signal
  return s;
}

}  // namespace

void block_stop_signals() {
  sigset_t s = stop_set();
  pthread_sigmask(SIG_BLOCK, &s, nullptr);
}

StopSignals::StopSignals(upload::Cancel& cancel, std::chrono::milliseconds grace) {
  thread_ = std::thread([&cancel, grace] {
    sigset_t s = stop_set();
    for (;;) {
      int sig = 0;
      if (sigwait(&s, &sig) != 0) continue;
      if (sig == SIGUSR1) return;
      cancel.request(grace);
    }
  });
}

StopSignals::~StopSignals() {
  pthread_kill(thread_.native_handle(), SIGUSR1);
  thread_.join();
}

}  // namespace lightbox::agent::app
