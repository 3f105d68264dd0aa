// What operators install: the systemd unit (systemd-analyze verify and
// security), `cmake --install` into a staging root, and the .deb built by
// CPack (contents listed with dpkg-deb and checked; the packaged binary and
// config started from the extracted tree).

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

namespace {

namespace fs = std::filesystem;

struct Shell {
  int rc = -1;
  std::string out;  // stdout and stderr
};

Shell Sh(const std::string& command) {
  Shell r;
  FILE* p = ::popen((command + " 2>&1").c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;)
    r.out.append(buf, n);
  const int status = ::pclose(p);
  r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::string Read(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const std::string kBin = NEWSFLOW_BINARY_DIR;

class PackagingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("nf_pkg_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(PackagingTest, UnitVerifiesAndIsHardened) {
  const std::string unit = kBin + "/systemd/newsflowd.service";
  ASSERT_EQ(Sh("command -v systemd-analyze").rc, 0)
      << "systemd-analyze missing: scripts/setup installs the systemd package";
  // MANPATH: the unit's Documentation=man:newsflowd(8) must resolve.
  auto verify = Sh("MANPATH=" + kBin + "/man systemd-analyze verify " + unit);
  EXPECT_EQ(verify.rc, 0) << verify.out;
  EXPECT_EQ(verify.out, "") << "warnings from systemd-analyze verify";

  const std::string text = Read(unit);
  for (const char* line :
       {"Type=notify", "NotifyAccess=main", "WatchdogSec=",
        "Restart=on-failure", "ExecReload=/bin/kill -HUP $MAINPID",
        "DynamicUser=yes", "StateDirectory=newsflow", "ProtectSystem=strict",
        "NoNewPrivileges=yes", "SystemCallFilter=@system-service",
        "CapabilityBoundingSet=\n",
        "MemoryMax=", "TasksMax=", "IPAddressDeny=169.254.0.0/16 fe80::/10"}) {
    EXPECT_NE(text.find(line), std::string::npos) << line;
  }

  // systemd's own exposure rating, offline (no running systemd needed).
  auto security = Sh("systemd-analyze security --offline=true " + unit);
  std::smatch m;
  const std::regex score(
      R"(Overall exposure level for newsflowd.service: ([0-9.]+))");
  ASSERT_TRUE(std::regex_search(security.out, m, score)) << security.out;
  EXPECT_LE(std::stod(m[1]), 2.0) << security.out;
}

TEST_F(PackagingTest, CmakeInstallStagesBinaryUnitConfigAndDocs) {
  const fs::path root = dir_ / "root";
  auto install = Sh("DESTDIR=" + root.string() + " cmake --install " + kBin +
                    " --prefix /usr");
  ASSERT_EQ(install.rc, 0) << install.out;
  for (const char* f :
       {"usr/bin/newsflowd", "lib/systemd/system/newsflowd.service",
        "usr/lib/tmpfiles.d/newsflowd.conf", "etc/newsflow/newsflow.yaml",
        "usr/share/man/man8/newsflowd.8.gz",
        "usr/share/man/man5/newsflow.yaml.5.gz",
        "usr/share/doc/newsflowd/copyright",
        "usr/share/doc/newsflowd/changelog.gz",
        "usr/share/doc/newsflowd/operator-guide.md",
        "usr/share/doc/newsflowd/consumer-guide.md",
        "usr/share/doc/newsflowd/examples/newsflow.example.yaml"}) {
    EXPECT_TRUE(fs::is_regular_file(root / f)) << f;
  }
  EXPECT_TRUE(fs::is_directory(root / "etc/newsflow/conf.d"));
  // Where debhelper (bookworm) puts units for prefix /usr.
  const std::string unit = Read(root / "lib/systemd/system/newsflowd.service");
  EXPECT_NE(unit.find("ExecStart=/usr/bin/newsflowd run --config "
                      "/etc/newsflow/newsflow.yaml"),
            std::string::npos)
      << unit;
  // The shipped config is valid as shipped.
  auto check = Sh((root / "usr/bin/newsflowd").string() + " check-config " +
                  (root / "etc/newsflow/newsflow.yaml").string());
  EXPECT_EQ(check.rc, 0) << check.out;
  EXPECT_NE(check.out.find(": ok (0 feeds)"), std::string::npos) << check.out;

  // check-config on a bad file: exit 1 and exactly FILE:LINE:COL: message.
  const fs::path bad = dir_ / "bad.yaml";
  std::ofstream(bad) << "metrics:\n  listen: \"127.0.0.1:9464\"\n  lisen: x\n";
  auto bad_check = Sh((root / "usr/bin/newsflowd").string() + " check-config " +
                      bad.string());
  EXPECT_EQ(bad_check.rc, 1);
  EXPECT_EQ(bad_check.out,
            bad.string() +
                ":3:3: unknown key \"lisen\" in metrics (did you mean "
                "\"listen\"?)\n");

  // Another prefix keeps /etc under it.
  const fs::path other = dir_ / "opt";
  ASSERT_EQ(Sh("cmake --install " + kBin + " --prefix " + other.string()).rc,
            0);
  EXPECT_TRUE(fs::is_regular_file(other / "etc/newsflow/newsflow.yaml"));
  EXPECT_NE(Read(other / "lib/systemd/system/newsflowd.service")
                .find("ExecStart=" + (other / "bin/newsflowd").string()),
            std::string::npos);
}

TEST_F(PackagingTest, DebContentsControlAndExtractedDaemonStarts) {
  auto pack = Sh("cd " + kBin + " && cpack -G DEB -B " + dir_.string());
  ASSERT_EQ(pack.rc, 0) << pack.out;
  std::string deb;
  for (const auto& e : fs::directory_iterator(dir_)) {
    if (e.path().extension() == ".deb") deb = e.path().string();
  }
  ASSERT_FALSE(deb.empty()) << pack.out;
  EXPECT_NE(deb.find("newsflowd_0.1.0_"), std::string::npos) << deb;

  auto contents = Sh("dpkg-deb -c " + deb);
  ASSERT_EQ(contents.rc, 0) << contents.out;
  for (const char* f :
       {" ./usr/bin/newsflowd\n", " ./lib/systemd/system/newsflowd.service\n",
        " ./usr/lib/tmpfiles.d/newsflowd.conf\n",
        " ./etc/newsflow/newsflow.yaml\n", " ./etc/newsflow/conf.d/\n",
        " ./usr/share/man/man8/newsflowd.8.gz\n",
        " ./usr/share/man/man5/newsflow.yaml.5.gz\n",
        " ./usr/share/doc/newsflowd/copyright\n",
        " ./usr/share/doc/newsflowd/changelog.gz\n",
        " ./usr/share/doc/newsflowd/operator-guide.md\n",
        " ./usr/share/doc/newsflowd/consumer-guide.md\n",
        " ./usr/share/doc/newsflowd/article.schema.json\n"}) {
    EXPECT_NE(contents.out.find(f), std::string::npos) << f << "\n"
                                                       << contents.out;
  }
  // Only FHS locations (/lib/systemd/system for the unit, as debhelper);
  // nothing under /usr/local or the build tree.
  std::istringstream lines(contents.out);
  for (std::string line; std::getline(lines, line);) {
    const std::string path = line.substr(line.find(" ./") + 1);
    EXPECT_TRUE(path.rfind("./usr/", 0) == 0 || path.rfind("./etc/", 0) == 0 ||
                path.rfind("./lib/systemd/system/", 0) == 0 || path == "./" ||
                path == "./lib/" || path == "./lib/systemd/")
        << path;
    EXPECT_EQ(path.find("/usr/local"), std::string::npos) << path;
  }
  EXPECT_NE(contents.out.find("root/root"), std::string::npos);

  auto info = Sh("dpkg-deb -I " + deb);
  ASSERT_EQ(info.rc, 0) << info.out;
  EXPECT_NE(info.out.find("Package: newsflowd"), std::string::npos);
  EXPECT_NE(info.out.find("librdkafka1"), std::string::npos)
      << "shlibdeps missing";
  // Issue 13: language detection, filters, same-site test.
  for (const char* lib : {"libcld2-0", "libre2-9", "libpsl5"}) {
    EXPECT_NE(info.out.find(lib), std::string::npos) << lib << "\n" << info.out;
  }
  EXPECT_NE(info.out.find("postinst"), std::string::npos);
  EXPECT_NE(info.out.find("Recommends: ca-certificates, tzdata"),
            std::string::npos)
      << info.out;
  auto conffiles = Sh("dpkg-deb -I " + deb + " conffiles");
  EXPECT_EQ(conffiles.out, "/etc/newsflow/newsflow.yaml\n");
  for (const char* script : {"postinst", "prerm", "postrm"}) {
    auto body =
        Sh("dpkg-deb -I " + deb + " " + script + " > " +
           (dir_ / script).string() + " && sh -n " + (dir_ / script).string());
    EXPECT_EQ(body.rc, 0) << script << ": " << body.out;
  }

  // Extract and run what was packaged.
  const fs::path x = dir_ / "x";
  ASSERT_EQ(Sh("dpkg-deb -x " + deb + " " + x.string()).rc, 0);
  const std::string bin = (x / "usr/bin/newsflowd").string();
  auto sections = Sh("readelf -S " + bin);
  ASSERT_EQ(sections.rc, 0) << sections.out;
  EXPECT_EQ(sections.out.find(".debug_info"), std::string::npos)
      << "binary not stripped";
  EXPECT_NE(sections.out.find(".text"), std::string::npos);
  auto version = Sh(bin + " --version");
  EXPECT_EQ(version.rc, 0);
  EXPECT_EQ(version.out, "newsflowd 0.1.0\n");
  auto check =
      Sh(bin + " check-config " + (x / "etc/newsflow/newsflow.yaml").string());
  EXPECT_EQ(check.rc, 0) << check.out;

  // The packaged unit verifies (its binary path pointed at the extracted one).
  std::string unit = Read(x / "lib/systemd/system/newsflowd.service");
  unit = std::regex_replace(unit, std::regex("/usr/bin/newsflowd"), bin);
  std::ofstream(dir_ / "newsflowd.service") << unit;
  auto verify =
      Sh("MANPATH=" + (x / "usr/share/man").string() +
         " systemd-analyze verify " + (dir_ / "newsflowd.service").string());
  EXPECT_EQ(verify.rc, 0) << verify.out;

  // Start the packaged binary with the packaged config (state and metrics
  // moved into the temp dir, jsonl instead of a broker that may be absent)
  // and stop it: it must come up, announce READY=1 and exit 0 on SIGTERM.
  std::string config = Read(x / "etc/newsflow/newsflow.yaml");
  config = std::regex_replace(config, std::regex("/var/lib/newsflow/state.db"),
                              (dir_ / "state.db").string());
  config =
      std::regex_replace(config, std::regex("127.0.0.1:9464"), "127.0.0.1:0");
  config +=
      "sinks: [jsonl]\njsonl_path: " + (dir_ / "out.jsonl").string() + "\n";
  const fs::path cfg = x / "etc/newsflow/newsflow.yaml";
  std::ofstream(cfg) << config;
  const std::string sock = (dir_ / "n.sock").string();
  int fd = ::socket(AF_UNIX, SOCK_DGRAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", sock.c_str());
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  timeval tv{15, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::setenv("NOTIFY_SOCKET", sock.c_str(), 1);
    const std::string log = (dir_ / "run.log").string();
    std::freopen(log.c_str(), "w", stderr);
    ::execl(bin.c_str(), bin.c_str(), "run", "--config", cfg.c_str(), nullptr);
    _exit(127);
  }
  std::string got;
  char buf[512];
  while (got.find("READY=1") == std::string::npos) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n)).push_back('\n');
  }
  ::close(fd);
  EXPECT_NE(got.find("READY=1"), std::string::npos)
      << got << Read(dir_ / "run.log");
  ::kill(pid, SIGTERM);
  // Bounded wait for the exit; SIGKILL (and a failure) after 30 s.
  int status = 0;
  auto reap = [&] {
    pid_t reaped = 0;
    for (int i = 0; i < 3000 && reaped == 0; ++i) {
      reaped = ::waitpid(pid, &status, WNOHANG);
      if (reaped == 0)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return reaped == pid;
  };
  if (!reap()) {
    ::kill(pid, SIGKILL);
    ADD_FAILURE() << "no exit 30 s after SIGTERM";
    reap();
  }
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << Read(dir_ / "run.log");
}

}  // namespace
