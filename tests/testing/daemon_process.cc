#include "tests/testing/daemon_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

namespace newsflow::testing {

namespace {

// waitpid(pid) for at most `timeout`: the exit status, or nullopt when the
// child is still running then. Never blocks without a bound.
std::optional<int> WaitPidFor(pid_t pid, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return status;
    if (r < 0) return std::nullopt;  // not our child (any more)
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

int ExitCode(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

std::string DaemonBinary() {
  return std::string(NEWSFLOW_BINARY_DIR) + "/daemon/newsflowd";
}

DaemonProcess::DaemonProcess(const std::vector<std::string>& args,
                             std::string log_path)
    : log_path_(std::move(log_path)) {
  const std::string binary = DaemonBinary();
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(binary.c_str()));
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const int fd = ::open(log_path_.c_str(),
                        O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  pid_ = ::fork();
  if (pid_ == 0) {
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    ::execv(binary.c_str(), argv.data());
    _exit(127);
  }
  if (fd >= 0) ::close(fd);
}

DaemonProcess::~DaemonProcess() {
  if (pid_ > 0 && !reaped_) {
    ::kill(pid_, SIGKILL);
    // SIGKILL is not blockable; 30 s only bounds a process stuck in the
    // kernel (the test then leaks a zombie rather than hanging).
    (void)WaitPidFor(pid_, std::chrono::seconds(30));
  }
}

void DaemonProcess::Signal(int signo) {
  if (pid_ > 0 && !reaped_) ::kill(pid_, signo);
}

std::optional<int> DaemonProcess::Wait(std::chrono::milliseconds timeout) {
  if (reaped_ || pid_ <= 0) return std::nullopt;
  auto status = WaitPidFor(pid_, timeout);
  if (!status) return std::nullopt;
  reaped_ = true;
  return ExitCode(*status);
}

std::string DaemonProcess::Log() const {
  std::ifstream in(log_path_);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

CommandResult RunDaemonCommand(const std::vector<std::string>& args,
                               std::chrono::milliseconds timeout) {
  char out_tmpl[] = "/tmp/nf_cmd_out_XXXXXX";
  char err_tmpl[] = "/tmp/nf_cmd_err_XXXXXX";
  const int out_fd = ::mkstemp(out_tmpl);
  const int err_fd = ::mkstemp(err_tmpl);
  const std::string binary = DaemonBinary();
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(binary.c_str()));
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(out_fd, 1);
    ::dup2(err_fd, 2);
    ::execv(binary.c_str(), argv.data());
    _exit(127);
  }
  ::close(out_fd);
  ::close(err_fd);
  CommandResult result;
  if (auto status = WaitPidFor(pid, timeout)) {
    result.exit_code = ExitCode(*status);
  } else {
    ::kill(pid, SIGKILL);
    (void)WaitPidFor(pid, std::chrono::seconds(30));
    result.exit_code = -1;
  }
  auto slurp = [](const char* path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    ::unlink(path);
    return s.str();
  };
  result.out = slurp(out_tmpl);
  result.err = slurp(err_tmpl);
  return result;
}

}  // namespace newsflow::testing
