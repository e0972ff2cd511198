// Windows: install-service / uninstall-service (registration with the Service Control Manager:
// auto start, restart on failure) and the service host that `run` becomes when the SCM starts it
// (StartServiceCtrlDispatcherW, a control handler mapping STOP/SHUTDOWN to the graceful stop and
// PARAMCHANGE to a config reload, STOP_PENDING checkpoints, a stop deadline, the event log).
// CMake picks this file only on WIN32; on Linux it is compiled and linked with mingw-w64 by
// tests/package/windows_cross.sh, never run (see docs/windows.md for what that does and does not show).
#define WIN32_LEAN_AND_MEAN
#define NOMINMAX
#include <windows.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "agent/app/commands.hpp"
#include "agent/app/run_control.hpp"

namespace lightbox::agent::app {
namespace {

constexpr wchar_t kServiceName[] = L"lightbox-agent";
constexpr wchar_t kDisplayName[] = L"Lightbox imaging agent";

/// Closes a service or SCM handle.
struct ScHandle {
  SC_HANDLE h = nullptr;
  ~ScHandle() { if (h) CloseServiceHandle(h); }
};

int fail(const char* what) {
  std::cerr << "lightbox-agent: " << what << " failed (Windows error " << GetLastError() << ")\n";
  return 1;
}

// The account: the default "lightbox" becomes the per-service virtual account (no password);
// another name is passed as is (a managed or built-in account; a normal user needs a password,
// which is set in services.msc, not here).
std::wstring account_for(const std::string& user) {
  if (user == "lightbox") return L"NT SERVICE\\lightbox-agent";
  return std::filesystem::path(user).wstring();
}

// ---- the service host ------------------------------------------------------------------------

/// Extra time after the stop grace before the host gives up waiting for the run and reports
/// SERVICE_STOPPED anyway (the queue is crash-safe: items in flight are verified again next start).
constexpr auto kStopSlack = std::chrono::seconds(20);

std::wstring widen(const std::string& s) {
  if (s.empty()) return {};
  int n = MultiByteToWideChar(CP_UTF8, 0, s.data(), static_cast<int>(s.size()), nullptr, 0);
  std::wstring w(static_cast<std::size_t>(n), L'\0');
  MultiByteToWideChar(CP_UTF8, 0, s.data(), static_cast<int>(s.size()), w.data(), n);
  return w;
}

/// The one service this process hosts. ServiceMain gets no context argument from the SCM, so the
/// dispatcher reaches it through a pointer kept in this file only while the dispatcher runs.
class ServiceHost {
 public:
  explicit ServiceHost(std::string config_path) : config_path_(std::move(config_path)) {
    event_source_ = RegisterEventSourceW(nullptr, kServiceName);
  }
  ~ServiceHost() {
    if (event_source_) DeregisterEventSource(event_source_);
  }
  ServiceHost(const ServiceHost&) = delete;
  ServiceHost& operator=(const ServiceHost&) = delete;

  /// ServiceMain: registers the handler, runs the agent until it stops, reports the end.
  void main() {
    status_handle_ = RegisterServiceCtrlHandlerExW(kServiceName, &ServiceHost::handler, this);
    if (!status_handle_) {
      event(EVENTLOG_ERROR_TYPE, L"RegisterServiceCtrlHandlerExW failed (error " + std::to_wstring(GetLastError()) + L")");
      return;
    }
    report(SERVICE_START_PENDING, NO_ERROR, 30'000);
    control_.on_started = [this] {
      report(SERVICE_RUNNING, NO_ERROR, 0);
      event(EVENTLOG_INFORMATION_TYPE, L"lightbox-agent started (config " + widen(config_path_) + L")");
    };
    std::thread pacer([this] { pace(); });
    int rc = 1;
    try {
      rc = run_with_control(config_path_, false, control_);
    } catch (const std::exception& e) {
      event(EVENTLOG_ERROR_TYPE, L"lightbox-agent failed: " + widen(e.what()));
    }
    {
      std::lock_guard lock(mu_);
      finished_ = true;
    }
    cv_.notify_all();
    pacer.join();
    if (rc != 0)
      event(EVENTLOG_ERROR_TYPE, L"lightbox-agent stopped with exit code " + std::to_wstring(rc) +
                                     L"; see its log file (log.file in the config)");
    else
      event(EVENTLOG_INFORMATION_TYPE, L"lightbox-agent stopped");
    report(SERVICE_STOPPED, rc == 0 ? NO_ERROR : ERROR_SERVICE_SPECIFIC_ERROR, 0, static_cast<DWORD>(rc));
  }

  static ServiceHost* current;  // set by run_as_windows_service around the dispatcher only

 private:
  static DWORD WINAPI handler(DWORD code, DWORD, LPVOID, LPVOID context) {
    auto* self = static_cast<ServiceHost*>(context);
    switch (code) {
      case SERVICE_CONTROL_STOP:
      case SERVICE_CONTROL_SHUTDOWN:
        self->begin_stop(code == SERVICE_CONTROL_SHUTDOWN);
        return NO_ERROR;
      case SERVICE_CONTROL_PARAMCHANGE:  // `sc control lightbox-agent paramchange`: like SIGHUP
        self->control_.request_reload();
        return NO_ERROR;
      case SERVICE_CONTROL_INTERROGATE:
        return NO_ERROR;
      default:
        return ERROR_CALL_NOT_IMPLEMENTED;
    }
  }

  void begin_stop(bool shutdown) {
    {
      std::lock_guard lock(mu_);
      if (stop_at_) return;
      stop_at_ = std::chrono::steady_clock::now();
    }
    report(SERVICE_STOP_PENDING, NO_ERROR, 5'000);
    event(EVENTLOG_INFORMATION_TYPE, shutdown ? L"system shutdown: stopping lightbox-agent" : L"stopping lightbox-agent");
    control_.request_stop();
    cv_.notify_all();
  }

  // While stopping: a STOP_PENDING checkpoint every second (so the SCM sees progress), and past
  // the deadline (stop grace + kStopSlack) the process reports SERVICE_STOPPED and exits.
  void pace() {
    std::unique_lock lock(mu_);
    for (;;) {
      cv_.wait_for(lock, std::chrono::seconds(1), [&] { return finished_; });
      if (finished_) return;
      if (!stop_at_) continue;
      const auto deadline = *stop_at_ + control_.stop_grace() + kStopSlack;
      if (std::chrono::steady_clock::now() < deadline) {
        lock.unlock();
        report(SERVICE_STOP_PENDING, NO_ERROR, 5'000);
        lock.lock();
        continue;
      }
      lock.unlock();
      event(EVENTLOG_ERROR_TYPE, L"lightbox-agent did not stop within its deadline; ending the process "
                                 L"(items in flight are verified again at the next start)");
      report(SERVICE_STOPPED, ERROR_SERVICE_SPECIFIC_ERROR, 0, 2);
      ExitProcess(2);
    }
  }

  void report(DWORD state, DWORD win32_exit, DWORD wait_hint, DWORD service_exit = 0) {
    std::lock_guard lock(status_mu_);
    status_.dwServiceType = SERVICE_WIN32_OWN_PROCESS;
    status_.dwCurrentState = state;
    status_.dwControlsAccepted =
        state == SERVICE_RUNNING ? SERVICE_ACCEPT_STOP | SERVICE_ACCEPT_SHUTDOWN | SERVICE_ACCEPT_PARAMCHANGE : 0;
    if (state == SERVICE_STOP_PENDING) status_.dwControlsAccepted = 0;
    status_.dwWin32ExitCode = win32_exit;
    status_.dwServiceSpecificExitCode = service_exit;
    status_.dwWaitHint = wait_hint;
    const bool pending = state == SERVICE_START_PENDING || state == SERVICE_STOP_PENDING;
    status_.dwCheckPoint = pending ? ++checkpoint_ : 0;
    SetServiceStatus(status_handle_, &status_);
  }

  void event(WORD type, const std::wstring& text) {
    if (!event_source_) return;
    const wchar_t* strings[1] = {text.c_str()};
    ReportEventW(event_source_, type, 0, 0, nullptr, 1, 0, strings, nullptr);
  }

  std::string config_path_;
  RunControl control_;
  HANDLE event_source_ = nullptr;
  SERVICE_STATUS_HANDLE status_handle_ = nullptr;
  std::mutex status_mu_;
  SERVICE_STATUS status_{};
  DWORD checkpoint_ = 0;
  std::mutex mu_;
  std::condition_variable cv_;
  bool finished_ = false;
  std::optional<std::chrono::steady_clock::time_point> stop_at_;
};

ServiceHost* ServiceHost::current = nullptr;

void WINAPI service_main(DWORD, LPWSTR*) {
  if (ServiceHost::current) ServiceHost::current->main();
}

}  // namespace

int run_as_windows_service(const std::string& config_path) {
  ServiceHost host(config_path);
  ServiceHost::current = &host;
  wchar_t name[] = L"lightbox-agent";
  SERVICE_TABLE_ENTRYW table[] = {{name, &service_main}, {nullptr, nullptr}};
  const BOOL ok = StartServiceCtrlDispatcherW(table);  // returns when the service has stopped
  const DWORD err = ok ? 0 : GetLastError();
  ServiceHost::current = nullptr;
  if (!ok && err == ERROR_FAILED_SERVICE_CONTROLLER_CONNECT) return kNotAService;  // started from a console
  if (!ok) {
    std::cerr << "lightbox-agent: StartServiceCtrlDispatcher failed (Windows error " << err << ")\n";
    return 1;
  }
  return 0;
}

int install_service_command(const ServiceOptions& o) {
  std::vector<wchar_t> exe(32768);
  DWORD n = GetModuleFileNameW(nullptr, exe.data(), static_cast<DWORD>(exe.size()));
  if (n == 0 || n >= exe.size()) return fail("GetModuleFileNameW");
  std::error_code ec;
  const std::wstring config = std::filesystem::absolute(o.config_path, ec).wstring();
  const std::wstring cmd = L"\"" + std::wstring(exe.data(), n) + L"\" run --config \"" + config + L"\"";
  const std::wstring account = account_for(o.user);

  ScHandle scm{OpenSCManagerW(nullptr, nullptr, SC_MANAGER_CONNECT | SC_MANAGER_CREATE_SERVICE)};
  if (!scm.h) return fail("OpenSCManager (run as Administrator)");
  ScHandle svc{CreateServiceW(scm.h, kServiceName, kDisplayName, SERVICE_ALL_ACCESS, SERVICE_WIN32_OWN_PROCESS,
                              SERVICE_AUTO_START, SERVICE_ERROR_NORMAL, cmd.c_str(), nullptr, nullptr, nullptr,
                              account.c_str(), nullptr)};
  if (!svc.h && GetLastError() == ERROR_SERVICE_EXISTS) {  // install again = update
    svc.h = OpenServiceW(scm.h, kServiceName, SERVICE_ALL_ACCESS);
    if (!svc.h) return fail("OpenService");
    if (!ChangeServiceConfigW(svc.h, SERVICE_WIN32_OWN_PROCESS, SERVICE_AUTO_START, SERVICE_ERROR_NORMAL, cmd.c_str(),
                              nullptr, nullptr, nullptr, account.c_str(), nullptr, kDisplayName))
      return fail("ChangeServiceConfig");
  }
  if (!svc.h) return fail("CreateService");

  wchar_t text[] = L"Collects imaging data at a hospital, verifies it and uploads it to the Lightbox hub.";
  SERVICE_DESCRIPTIONW desc{text};
  if (!ChangeServiceConfig2W(svc.h, SERVICE_CONFIG_DESCRIPTION, &desc)) return fail("setting the description");

  // Restart 5 s after the first and second failure, 60 s after later ones; the count resets
  // after a day without failures (systemd: Restart=on-failure, RestartSec=5).
  SC_ACTION actions[3] = {{SC_ACTION_RESTART, 5000}, {SC_ACTION_RESTART, 5000}, {SC_ACTION_RESTART, 60000}};
  SERVICE_FAILURE_ACTIONSW fa{};
  fa.dwResetPeriod = 24 * 60 * 60;
  fa.cActions = 3;
  fa.lpsaActions = actions;
  if (!ChangeServiceConfig2W(svc.h, SERVICE_CONFIG_FAILURE_ACTIONS, &fa)) return fail("setting failure actions");
  // Also restart when the service stops by itself with a non-zero exit code, not only on a crash.
  SERVICE_FAILURE_ACTIONS_FLAG flag{TRUE};
  if (!ChangeServiceConfig2W(svc.h, SERVICE_CONFIG_FAILURE_ACTIONS_FLAG, &flag))
    return fail("setting the failure actions flag");

  std::wcout << L"registered service lightbox-agent: " << cmd << L" (account " << account << L")\n"
             << L"start it with: sc start lightbox-agent\n";
  return 0;
}

int uninstall_service_command(const ServiceOptions&) {
  ScHandle scm{OpenSCManagerW(nullptr, nullptr, SC_MANAGER_CONNECT)};
  if (!scm.h) return fail("OpenSCManager (run as Administrator)");
  ScHandle svc{OpenServiceW(scm.h, kServiceName, SERVICE_STOP | SERVICE_QUERY_STATUS | DELETE)};
  if (!svc.h) {
    if (GetLastError() == ERROR_SERVICE_DOES_NOT_EXIST) {
      std::cout << "not installed: no service lightbox-agent\n";
      return 0;
    }
    return fail("OpenService");
  }
  // Ask it to stop and wait up to 30 s (the drain deadline of a graceful stop) for the SCM to say so.
  SERVICE_STATUS st{};
  if (ControlService(svc.h, SERVICE_CONTROL_STOP, &st)) {
    for (int i = 0; i < 60 && QueryServiceStatus(svc.h, &st) && st.dwCurrentState != SERVICE_STOPPED; ++i)
      Sleep(500);
  }
  if (!DeleteService(svc.h) && GetLastError() != ERROR_SERVICE_MARKED_FOR_DELETE) return fail("DeleteService");
  std::cout << "removed service lightbox-agent; the queue, data and config are kept\n";
  return 0;
}

}  // namespace lightbox::agent::app
