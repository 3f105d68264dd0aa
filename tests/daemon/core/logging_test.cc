// Logging output as an operator sees it: the real stderr sink, captured by
// pointing fd 2 at a file.

#include "daemon/core/logging.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace newsflow {
namespace {

// Runs `body` with stderr redirected to a file; returns what was written.
template <class F>
std::string CaptureStderr(F body) {
  std::fflush(stderr);
  char path[] = "/tmp/nf_logging_test_XXXXXX";
  int fd = ::mkstemp(path);
  int saved = ::dup(2);
  ::dup2(fd, 2);
  body();
  std::fflush(stderr);
  ::dup2(saved, 2);
  ::close(saved);
  ::close(fd);
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  ::unlink(path);
  return ss.str();
}

std::vector<std::string> Lines(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string line; std::getline(ss, line);) out.push_back(line);
  return out;
}

constexpr char kSecretUrlMessage[] =
    "Feed poll failed. "
    "url=https://bob:hunter2@news.example/rss.xml?token=s3cr3t&x=1: "
    "HTTP 500 \"quoted\"";

TEST(LoggingTest, JsonLinesAreValidAndNameComponentAndFeed) {
  ::unsetenv("JOURNAL_STREAM");
  ASSERT_TRUE(InitLogging({"info", "json"}));
  const std::string out = CaptureStderr([] {
    GetLogger("feed.bbc-world")->warn(kSecretUrlMessage);
    GetLogger("daemon")->info("Started. feeds={}", 3);
    GetLogger("feed.bbc-world")->flush();
    GetLogger("daemon")->flush();
  });
  auto lines = Lines(out);
  ASSERT_EQ(lines.size(), 2u) << out;
  auto feed = nlohmann::json::parse(lines[0]);
  EXPECT_EQ(feed["component"], "feed.bbc-world");
  EXPECT_EQ(feed["feed"], "bbc-world");
  EXPECT_EQ(feed["level"], "warning");
  const std::string msg = feed["message"];
  EXPECT_EQ(msg.find("s3cr3t"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("hunter2"), std::string::npos) << msg;
  EXPECT_NE(msg.find("https://…@news.example/rss.xml?…: HTTP 500 \"quoted\""),
            std::string::npos)
      << msg;
  EXPECT_TRUE(feed["time"].is_string());
  auto daemon = nlohmann::json::parse(lines[1]);
  EXPECT_EQ(daemon["component"], "daemon");
  EXPECT_FALSE(daemon.contains("feed"));
  EXPECT_EQ(daemon["message"], "Started. feeds=3");
}

TEST(LoggingTest, TextLinesNameComponentAndRedact) {
  ::unsetenv("JOURNAL_STREAM");
  ASSERT_TRUE(InitLogging({"info", "text"}));
  const std::string out = CaptureStderr([] {
    GetLogger("feed.bbc-world")->error(kSecretUrlMessage);
    GetLogger("feed.bbc-world")->flush();
  });
  auto lines = Lines(out);
  ASSERT_EQ(lines.size(), 1u) << out;
  EXPECT_NE(lines[0].find(" error [feed.bbc-world] Feed poll failed."),
            std::string::npos)
      << lines[0];
  EXPECT_EQ(lines[0].find("s3cr3t"), std::string::npos) << lines[0];
  EXPECT_EQ(lines[0].find("hunter2"), std::string::npos) << lines[0];
  // A timestamp leads when not under journald.
  EXPECT_TRUE(std::isdigit(static_cast<unsigned char>(lines[0][0])))
      << lines[0];
}

// JOURNAL_STREAM naming the device:inode of what fd 2 is now.
void PointJournalStreamAtStderr() {
  struct stat st {};
  ASSERT_EQ(::fstat(2, &st), 0);
  const std::string value =
      std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
  ::setenv("JOURNAL_STREAM", value.c_str(), 1);
}

TEST(LoggingTest, JournaldLinesCarryPriorityAndNoTimestamp) {
  // systemd.exec(5): stderr is the journal when JOURNAL_STREAM names its
  // device and inode. (journal_fields off: this checks the stream format,
  // the native one needs a journald.)
  std::string prefix;
  const std::string out = CaptureStderr([&prefix] {
    PointJournalStreamAtStderr();
    ASSERT_TRUE(InitLogging({"debug", "text", /*journal_fields=*/false}));
    prefix = StderrErrorPrefix();
    auto log = GetLogger("sink.kafka");
    log->warn("Broker down.");
    log->info("Back.");
    log->debug("Detail.");
    log->flush();
  });
  ::unsetenv("JOURNAL_STREAM");
  auto lines = Lines(out);
  ASSERT_EQ(lines.size(), 3u) << out;
  EXPECT_EQ(lines[0], "<4>warning [sink.kafka] Broker down.");
  EXPECT_EQ(lines[1], "<6>info [sink.kafka] Back.");
  EXPECT_EQ(lines[2], "<7>debug [sink.kafka] Detail.");
  EXPECT_EQ(prefix, "<3>");
}

TEST(LoggingTest, InheritedJournalStreamOfAnotherFileIsIgnored) {
  // A child whose stderr was redirected (to a file, a pipe) inherits
  // JOURNAL_STREAM; its lines must stay plain, timestamped ones.
  ::setenv("JOURNAL_STREAM", "8:1234", 1);
  std::string prefix = "unset";
  const std::string out = CaptureStderr([&prefix] {
    ASSERT_TRUE(InitLogging({"info", "text", /*journal_fields=*/false}));
    prefix = StderrErrorPrefix();
    GetLogger("daemon")->warn("Plain.");
  });
  ::unsetenv("JOURNAL_STREAM");
  auto lines = Lines(out);
  ASSERT_EQ(lines.size(), 1u) << out;
  EXPECT_NE(lines[0][0], '<') << lines[0];
  EXPECT_NE(lines[0].find("warning [daemon] Plain."), std::string::npos);
  EXPECT_EQ(prefix, "");
}

TEST(LoggingTest, RedactUrlReadsUrlsAsTheUrlModel) {
  // Userinfo is what precedes the last '@' of the authority a browser sees;
  // query and fragment (OAuth tokens travel in fragments) are hidden.
  EXPECT_EQ(RedactUrl("https://bob:p@ss@news.example/rss?token=s3cr3t"),
            "https://…@news.example/rss?…");
  EXPECT_EQ(RedactUrl("https://news.example/cb#access_token=s3cr3t"),
            "https://news.example/cb#…");
  EXPECT_EQ(RedactUrl("HTTPS://News.Example:443/a/../feed"),
            "https://news.example/feed");
  EXPECT_EQ(RedactUrl("https://news.example\\feed?k=s3cr3t"),
            "https://news.example/feed?…");
  // Not an http(s) URL: cut at '?', hide what precedes an '@'.
  EXPECT_EQ(RedactUrl("ftp://bob:pw@host/x?y=1"), "ftp://…@host/x?…");
  EXPECT_EQ(RedactUrl("no url here"), "no url here");
}

TEST(LoggingTest, MessagesWithoutUrlsAreUntouched) {
  ::unsetenv("JOURNAL_STREAM");
  ASSERT_TRUE(InitLogging({"info", "json"}));
  const std::string out = CaptureStderr([] {
    GetLogger("http")->info("ratio 3:1, path /a?b (no scheme) ://odd");
    GetLogger("http")->flush();
  });
  auto j = nlohmann::json::parse(Lines(out).at(0));
  EXPECT_EQ(j["message"], "ratio 3:1, path /a?b (no scheme) ://odd");
}

// Hostile input (issue 11 item 6): a value from a feed carrying a newline,
// a carriage return, an ANSI escape or a journald priority prefix cannot
// forge a log line in any format.
TEST(LoggingTest, ControlCharactersCannotForgeLines) {
  const std::string hostile =
      "Page fetch failed. title=\"x\n2026-01-01T00:00:00.000Z critical "
      "[daemon] forged\" ansi=\x1b[31m cr=\r<2>also forged\\n";
  for (const bool journald : {false, true}) {
    if (journald) {
      ::setenv("JOURNAL_STREAM", "8:1234", 1);
    } else {
      ::unsetenv("JOURNAL_STREAM");
    }
    for (const char* format : {"text", "json"}) {
      ASSERT_TRUE(InitLogging({"info", format}));
      const std::string out = CaptureStderr([&] {
        GetLogger("feed.evil")->warn(hostile);
        GetLogger("feed.evil")->flush();
      });
      auto lines = Lines(out);
      ASSERT_EQ(lines.size(), 1u) << format << " journald=" << journald << "\n"
                                  << out;
      EXPECT_EQ(out.find('\r'), std::string::npos) << format;
      EXPECT_EQ(out.find('\x1b'), std::string::npos) << format;
      if (std::string(format) == "text") {
        EXPECT_NE(lines[0].find("title=\"x\\n2026-01-01"), std::string::npos)
            << lines[0];
        EXPECT_NE(lines[0].find("ansi=\\x1b[31m"), std::string::npos)
            << lines[0];
        // A literal backslash is doubled, so "\\n" in the input cannot
        // pass for an escaped newline.
        EXPECT_NE(lines[0].find("forged\\\\n"), std::string::npos) << lines[0];
      } else {
        const size_t brace = lines[0].find('{');
        ASSERT_NE(brace, std::string::npos) << lines[0];
        auto j = nlohmann::json::parse(lines[0].substr(brace));
        EXPECT_EQ(j["message"], hostile);
      }
    }
  }
  ::unsetenv("JOURNAL_STREAM");
}

}  // namespace
}  // namespace newsflow
