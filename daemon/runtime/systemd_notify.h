#pragma once

// Thin wrapper over sd_notify(3): READY=1, STATUS=, RELOADING=1,
// STOPPING=1, WATCHDOG=1, EXTEND_TIMEOUT_USEC=. Every call is a no-op when
// NOTIFY_SOCKET is not set (not started by systemd) or libsystemd was not
// available at build time. Thread-safe (sd_notify is).

#include <chrono>
#include <optional>
#include <string_view>

namespace newsflow {

void NotifyReady();
void NotifyReloading();
void NotifyStopping();
void NotifyStatus(std::string_view status);
void NotifyWatchdog();
// EXTEND_TIMEOUT_USEC=: asks for `extension` more time in the current phase
// (start-up, shutdown) beyond the unit's TimeoutStartSec/TimeoutStopSec,
// counted from now; a later call replaces it.
void NotifyExtendTimeout(std::chrono::microseconds extension);

// The interval at which WATCHDOG=1 should be sent (half of WatchdogSec), or
// nullopt when the watchdog is off.
std::optional<std::chrono::microseconds> WatchdogInterval();

}  // namespace newsflow
