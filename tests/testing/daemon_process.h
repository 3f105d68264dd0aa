#pragma once

// DaemonProcess: runs the real `newsflowd` binary as a child process for
// integration tests (so signals, exit codes and restarts are real).

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace newsflow::testing {

class DaemonProcess {
 public:
  // Starts NEWSFLOW_BINARY_DIR/daemon/newsflowd with `args`; its stderr (and
  // stdout) go to `log_path`.
  DaemonProcess(const std::vector<std::string>& args, std::string log_path);
  // Kills the child (SIGKILL) if it still runs.
  ~DaemonProcess();
  DaemonProcess(const DaemonProcess&) = delete;
  DaemonProcess& operator=(const DaemonProcess&) = delete;

  pid_t pid() const { return pid_; }
  void Signal(int signo);
  // Waits for exit; returns the exit code (128+N for death by signal N), or
  // nullopt on timeout.
  std::optional<int> Wait(std::chrono::milliseconds timeout);
  // The child's output so far.
  std::string Log() const;

 private:
  pid_t pid_ = -1;
  std::string log_path_;
  bool reaped_ = false;
};

// Path of the built daemon binary.
std::string DaemonBinary();

// Runs `newsflowd args...` to completion; returns exit code and stdout.
struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};
CommandResult RunDaemonCommand(
    const std::vector<std::string>& args,
    std::chrono::milliseconds timeout = std::chrono::seconds(60));

}  // namespace newsflow::testing
