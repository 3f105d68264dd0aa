#include "daemon/runtime/systemd_notify.h"

#include <string>

#if NEWSFLOW_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

namespace newsflow {
namespace {

void Send(const std::string& state) {
#if NEWSFLOW_HAVE_SYSTEMD
  sd_notify(0, state.c_str());
#else
  (void)state;
#endif
}

}  // namespace

void NotifyReady() { Send("READY=1"); }
void NotifyReloading() { Send("RELOADING=1"); }
void NotifyStopping() { Send("STOPPING=1"); }
void NotifyStatus(std::string_view status) {
  Send("STATUS=" + std::string(status));
}
void NotifyWatchdog() { Send("WATCHDOG=1"); }
void NotifyExtendTimeout(std::chrono::microseconds extension) {
  Send("EXTEND_TIMEOUT_USEC=" + std::to_string(extension.count()));
}

std::optional<std::chrono::microseconds> WatchdogInterval() {
#if NEWSFLOW_HAVE_SYSTEMD
  uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
    return std::chrono::microseconds(usec / 2);
  }
#endif
  return std::nullopt;
}

}  // namespace newsflow
