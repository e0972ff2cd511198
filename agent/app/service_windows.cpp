// install-service / uninstall-service on Windows: registration with the Service Control Manager
// (auto start, restart on failure). Not compiled or run on the Linux build machine: CMake picks
// this file only on WIN32. Honest status: this registers the service; the service host itself
// (StartServiceCtrlDispatcherW, a control handler that turns SERVICE_CONTROL_STOP into the same
// cancel-and-drain as SIGTERM) is not written yet, so until it is, the SCM reports error 1053
// when it starts the registered `run` command.
#define WIN32_LEAN_AND_MEAN
#define NOMINMAX
#include <windows.h>

#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "agent/app/commands.hpp"

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

}  // namespace

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
