// lightbox-fault-proxy: a small fault-injecting TCP proxy for the fault tests (the kernel here
// has no netem). Forwards LISTEN -> TARGET and adds, per direction:
//   --latency-ms N   every chunk is delivered N ms after it was read (a real delay line, not a
//                    stop-and-wait, so throughput stays up)
//   --rate-kbps N    a bandwidth limit (kbit/s) per direction and connection
//   --cut-after-kb N cut (RST) each connection after N KiB went through (0 = never)
// Signals: SIGUSR1 cuts every open connection now; SIGUSR2 toggles "black hole" (new
// connections are accepted and then closed at once, as a dead network path would refuse them).
// Prints "listening HOST:PORT" when ready. Plain POSIX sockets and threads; test code only.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string listen_host = "127.0.0.1";
  int listen_port = 0;
  std::string target_host = "127.0.0.1";
  int target_port = 0;
  int latency_ms = 0;
  long rate_kbps = 0;
  long cut_after_kb = 0;
};

std::atomic<int> g_cut_generation{0};
std::atomic<bool> g_black_hole{false};

void on_usr1(int) { g_cut_generation.fetch_add(1); }
void on_usr2(int) { g_black_hole.store(!g_black_hole.load()); }

bool split_host_port(const std::string& s, std::string& host, int& port) {
  auto colon = s.rfind(':');
  if (colon == std::string::npos) return false;
  host = s.substr(0, colon);
  port = std::atoi(s.c_str() + colon + 1);
  return port > 0 && port < 65536;
}

sockaddr_in address(const std::string& host, int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  inet_pton(AF_INET, host.c_str(), &a.sin_addr);
  return a;
}

void reset_close(int fd) {
  linger l{1, 0};  // RST instead of FIN: a cut link, not a polite close
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  ::shutdown(fd, SHUT_RDWR);
}

/// One direction of one connection: a reader thread fills a delay line, a writer drains it.
class Pipe {
 public:
  Pipe(int from, int to, const Options& o, std::atomic<bool>& dead, std::atomic<long>& total)
      : from_(from), to_(to), o_(o), dead_(dead), total_(total) {}
  void run() {
    std::thread writer([this] { write_loop(); });
    read_loop();
    writer.join();
  }

 private:
  void read_loop() {
    std::vector<char> buf(16 * 1024);
    for (;;) {
      ssize_t n = ::recv(from_, buf.data(), buf.size(), 0);
      if (n <= 0 || dead_) break;
      std::lock_guard lock(mu_);
      line_.push_back({Clock::now(), std::string(buf.data(), static_cast<std::size_t>(n))});
      cv_.notify_all();
    }
    std::lock_guard lock(mu_);
    eof_ = true;
    cv_.notify_all();
  }
  void write_loop() {
    for (;;) {
      std::pair<Clock::time_point, std::string> chunk;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return !line_.empty() || eof_; });
        if (line_.empty()) break;
        chunk = std::move(line_.front());
        line_.pop_front();
      }
      std::this_thread::sleep_until(chunk.first + std::chrono::milliseconds(o_.latency_ms));
      const char* p = chunk.second.data();
      std::size_t left = chunk.second.size();
      while (left > 0 && !dead_) {
        ssize_t w = ::send(to_, p, left, MSG_NOSIGNAL);
        if (w <= 0) {
          dead_ = true;
          break;
        }
        p += w;
        left -= static_cast<std::size_t>(w);
        if (o_.rate_kbps > 0)
          std::this_thread::sleep_for(std::chrono::microseconds(static_cast<long long>(w) * 8000 / o_.rate_kbps));
        total_ += w;
      }
      if (dead_) break;
    }
    // Half-close: the other side sees EOF once everything before it was delivered.
    if (!dead_) ::shutdown(to_, SHUT_WR);
  }

  int from_, to_;
  const Options& o_;
  std::atomic<bool>& dead_;
  std::atomic<long>& total_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::pair<Clock::time_point, std::string>> line_;
  bool eof_ = false;
};

void serve(int client, const Options& o) {
  if (g_black_hole) {
    reset_close(client);
    ::close(client);
    return;
  }
  int upstream = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in t = address(o.target_host, o.target_port);
  if (::connect(upstream, reinterpret_cast<sockaddr*>(&t), sizeof t) != 0) {
    reset_close(client);
    ::close(client);
    ::close(upstream);
    return;
  }
  int one = 1;
  setsockopt(upstream, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  std::atomic<bool> dead{false};
  std::atomic<long> total{0};
  const int gen = g_cut_generation.load();
  Pipe up(client, upstream, o, dead, total), down(upstream, client, o, dead, total);
  std::thread a([&] { up.run(); });
  std::thread b([&] { down.run(); });
  std::atomic<bool> finished{false};
  std::thread watch([&] {
    while (!finished) {
      bool cut = g_cut_generation.load() != gen || (o.cut_after_kb > 0 && total.load() > o.cut_after_kb * 1024);
      if (cut && !dead) {
        dead = true;
        reset_close(client);
        reset_close(upstream);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  a.join();
  b.join();
  finished = true;
  watch.join();
  ::close(client);
  ::close(upstream);
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    bool ok = true;
    if (k == "--listen") ok = split_host_port(v, o.listen_host, o.listen_port);
    else if (k == "--target") ok = split_host_port(v, o.target_host, o.target_port);
    else if (k == "--latency-ms") o.latency_ms = std::atoi(v.c_str());
    else if (k == "--rate-kbps") o.rate_kbps = std::atol(v.c_str());
    else if (k == "--cut-after-kb") o.cut_after_kb = std::atol(v.c_str());
    else ok = false;
    if (!ok) {
      std::fprintf(stderr, "usage: lightbox-fault-proxy --listen H:P --target H:P [--latency-ms N] [--rate-kbps N] [--cut-after-kb N]\n");
      return 2;
    }
  }
  if (o.target_port == 0) {
    std::fprintf(stderr, "lightbox-fault-proxy: --target is required\n");
    return 2;
  }
  std::signal(SIGUSR1, on_usr1);
  std::signal(SIGUSR2, on_usr2);
  std::signal(SIGPIPE, SIG_IGN);
  int ls = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a = address(o.listen_host, o.listen_port);
  if (::bind(ls, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(ls, 64) != 0) {
    std::perror("lightbox-fault-proxy: bind/listen");
    return 1;
  }
  socklen_t len = sizeof a;
  getsockname(ls, reinterpret_cast<sockaddr*>(&a), &len);
  std::printf("listening %s:%d\n", o.listen_host.c_str(), ntohs(a.sin_port));
  std::fflush(stdout);
  for (;;) {
    int c = ::accept(ls, nullptr, nullptr);
    if (c < 0) {
      if (errno == EINTR) continue;
      break;
    }
    std::thread([c, &o] { serve(c, o); }).detach();
  }
  return 0;
}
