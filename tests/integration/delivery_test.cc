// Delivery guarantees end to end, with real parts only: the real newsflowd
// binary, a real loopback HTTP server serving a generated feed of a few
// hundred articles (reached through the daemon's HTTP proxy setting; it
// sends ETag/Last-Modified and answers 304, so validators stored too early
// would lose articles) and a real Kafka broker: this build tree's shared
// test broker, or, for the tests that SIGSTOP it, a private one per test
// process (scripts/kafka-broker with its own state dir).
//
//   * kill -9 while articles are in flight (broker stalled, in-flight count
//     scraped from /metrics), restart: every title the site served is in the
//     topic, duplicates carry the same key and content;
//   * a further restart republishes nothing (end offsets, after exit);
//   * editing one item yields exactly one `updated` event;
//   * a broker stalled (SIGSTOP) for longer than the producer's message
//     timeout: nothing lost, in-flight never above pipeline.max_in_flight,
//     delivery resumes by itself;
//   * SIGTERM while articles are in flight: resumed within drain_timeout,
//     everything is delivered and the daemon exits 0 (and /readyz answers
//     503 meanwhile); never resumed, it exits at about drain_timeout and
//     the next start delivers the rest.
//
// Every consumed message is validated against docs/article.schema.json.

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include "tests/testing/daemon_process.h"
#include "tests/testing/http_probe.h"
#include "tests/testing/kafka_test_util.h"
#include "tests/testing/loopback_http_server.h"
#include "tests/testing/schema_check.h"

namespace newsflow::testing {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr char kFeedUrl[] = "http://gen-news.example/feed.xml";

// Deterministic prose: ~2-8 KB per article, varying with the index.
std::string ArticleText(int i, int version) {
  static const char* kWords[] = {
      "council", "harbour", "minister", "river",  "market", "station",
      "budget",  "weather", "school",   "bridge", "report", "village",
      "trade",   "season",  "court",    "energy", "museum", "hospital"};
  std::string text;
  const size_t target = 2000 + static_cast<size_t>((i * 7919) % 6000);
  unsigned state = static_cast<unsigned>(i * 2654435761u + version);
  int sentence = 0;
  while (text.size() < target) {
    text += "<p>";
    for (int s = 0; s < 4; ++s, ++sentence) {
      text += "The ";
      for (int w = 0; w < 12; ++w) {
        state = state * 1103515245u + 12345u;
        text += kWords[(state >> 16) % 18];
        text += ' ';
      }
      text += "said story " + std::to_string(i) + " (v" +
              std::to_string(version) + ") line " + std::to_string(sentence) +
              ". ";
    }
    text += "</p>";
  }
  return text;
}

std::string NoiseText(size_t bytes) {
  static const char kChars[] =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  std::string text = "<p>";
  unsigned state = 12345;
  while (text.size() < bytes) {
    state = state * 1103515245u + 12345u;
    text.push_back(kChars[(state >> 16) % 62]);
    if ((state >> 8) % 9 == 0) text.push_back(' ');
  }
  return text + "</p>";
}

std::string XmlEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// A generated RSS feed whose items can be edited, plus pages for them.
class GeneratedSite {
 public:
  explicit GeneratedSite(int items) : items_(items), versions_(items, 0) {
    server_ = std::make_unique<LoopbackHttpServer>(
        [this](const TestRequest& req) { return Serve(req); });
  }
  std::string proxy() const { return server_->base_url(); }
  size_t FeedRequests() const {
    size_t n = 0;
    for (const auto& r : server_->requests()) n += r.path == "/feed.xml";
    return n;
  }
  // Feed requests answered 304 Not Modified (the daemon sent our ETag).
  size_t NotModifiedAnswers() {
    std::lock_guard lock(mu_);
    return not_modified_;
  }
  // Every item title the feed listed in a 200 answer so far: what the
  // topic must hold, computed here, not by the code under test.
  std::set<std::string> ServedTitles() {
    std::lock_guard lock(mu_);
    return served_titles_;
  }
  void SetItems(int n) {
    std::lock_guard lock(mu_);
    items_ = n;
    versions_.resize(n, 0);
  }
  void Edit(int i) {
    std::lock_guard lock(mu_);
    ++versions_.at(i);
  }
  // The feed answers 503 while down.
  void SetFeedDown(bool down) {
    std::lock_guard lock(mu_);
    feed_down_ = down;
  }
  // GUIDs become "gen-<salt>-<i>": a CMS that regenerates them.
  void SetGuidSalt(int salt) {
    std::lock_guard lock(mu_);
    guid_salt_ = salt;
  }
  // Item i gets `bytes` of high-entropy text (compresses poorly, like a
  // page full of data tables or inline base64).
  void SetHugeItem(int i, size_t bytes) {
    std::lock_guard lock(mu_);
    huge_item_ = i;
    huge_bytes_ = bytes;
  }
  void SetPageDelay(milliseconds d) {
    std::lock_guard lock(mu_);
    page_delay_ = d;
  }
  // A busy feed: every feed answer after the first lists `window` items
  // starting `per_poll` further on (the oldest drop out for good), and the
  // oldest item still listed is edited once (v1: an `updated` event whose
  // `created` was served before). `per_poll` 0 freezes the feed.
  void SetSlide(int per_poll, int window) {
    std::lock_guard lock(mu_);
    slide_ = per_poll;
    window_ = window;
  }

 private:
  TestResponse Serve(const TestRequest& req) {
    TestResponse resp;
    std::unique_lock lock(mu_);
    if (req.path == "/feed.xml" && feed_down_) {
      resp.status = 503;
      resp.body = "down for maintenance";
      return resp;
    }
    if (req.path == "/feed.xml" && window_ > 0) {
      if (slide_ > 0 && served_once_) {
        start_ += slide_;
        if (versions_.size() > static_cast<size_t>(start_) &&
            versions_[start_] == 0) {
          versions_[start_] = 1;
        }
      }
      served_once_ = true;
      items_ = start_ + window_;
      versions_.resize(items_, 0);
    }
    if (req.path == "/feed.xml") {
      // Validators: an ETag naming the document's state, and 304 when the
      // daemon presents it.
      std::string etag =
          "\"" + std::to_string(start_) + "-" + std::to_string(items_) + "-" +
          std::to_string(guid_salt_) + "-" + std::to_string(huge_item_);
      for (int v : versions_) etag += "." + std::to_string(v);
      etag += "\"";
      resp.headers.emplace_back("ETag", etag);
      resp.headers.emplace_back("Last-Modified",
                                "Mon, 06 Oct 2025 10:00:00 GMT");
      if (req.Header("if-none-match") == etag) {
        ++not_modified_;
        resp.status = 304;
        return resp;
      }
      std::ostringstream x;
      x << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        << "<rss version=\"2.0\"><channel><title>Generated News</title>"
        << "<link>http://gen-news.example/</link><description>test</"
           "description>\n";
      for (int i = start_; i < items_; ++i) {
        served_titles_.insert("Story " + std::to_string(i) + " v" +
                              std::to_string(versions_[i]));
        x << "<item><title>Story " << i << " v" << versions_[i] << "</title>"
          << "<link>http://gen-news.example/a/" << i << "</link>"
          << "<guid isPermaLink=\"false\">gen-"
          << (guid_salt_ ? std::to_string(guid_salt_) + "-" : "") << i
          << "</guid>"
          << "<category>" << (i % 2 ? "Sports" : "World") << "</category>"
          << "<pubDate>Mon, 06 Oct 2025 10:00:00 GMT</pubDate>"
          << "<description>"
          << XmlEscape(i == huge_item_ ? NoiseText(huge_bytes_)
                                       : ArticleText(i, versions_[i]))
          << "</description></item>\n";
      }
      x << "</channel></rss>\n";
      resp.headers.emplace_back("Content-Type", "application/rss+xml");
      resp.body = x.str();
      return resp;
    }
    if (req.path.rfind("/a/", 0) == 0) {
      const int i = std::atoi(req.path.c_str() + 3);
      const int version = i < items_ ? versions_[i] : 0;
      const milliseconds delay = page_delay_;
      lock.unlock();
      std::this_thread::sleep_for(delay);
      resp.headers.emplace_back("Content-Type", "text/html; charset=UTF-8");
      resp.body = "<html><head><title>Story " + std::to_string(i) +
                  "</title></head><body><article><h1>Story " +
                  std::to_string(i) + "</h1>" + ArticleText(i, version) +
                  "</article></body></html>";
      return resp;
    }
    resp.status = 404;
    return resp;
  }

  std::mutex mu_;
  int items_;
  std::vector<int> versions_;
  milliseconds page_delay_{0};
  int guid_salt_ = 0;
  int slide_ = 0;   // SetSlide
  int window_ = 0;  // SetSlide; 0 = items 0..items_-1
  int start_ = 0;   // first item listed
  bool served_once_ = false;
  bool feed_down_ = false;
  int huge_item_ = -1;
  size_t huge_bytes_ = 0;
  size_t not_modified_ = 0;
  std::set<std::string> served_titles_;
  std::unique_ptr<LoopbackHttpServer> server_;
};

// Runs a shell command, returns its stdout (last line trimmed) or "".
std::string Shell(const std::string& cmd, int* status = nullptr) {
  std::string out;
  if (FILE* p = ::popen(cmd.c_str(), "r")) {
    char buf[512];
    while (std::fgets(buf, sizeof(buf), p) != nullptr) out += buf;
    const int rc = ::pclose(p);
    if (status != nullptr) *status = rc;
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == ' '))
    out.pop_back();
  if (auto nl = out.rfind('\n'); nl != std::string::npos)
    out = out.substr(nl + 1);
  return out;
}

long VmRssKb(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return -1;
}

// The article JSON without the fields that legitimately differ between two
// publications of the same content (fetch time).
nlohmann::json StableContent(const std::string& value) {
  auto v = nlohmann::json::parse(value);
  v.erase("fetched_at");
  return v;
}

// Waits until `done()` holds, polling every 100 ms, for at most `timeout`.
bool WaitUntil(const std::function<bool()>& done, milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (done()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(milliseconds(100));
  }
}

// A private broker (its own state dir) for the tests that SIGSTOP it:
// other tests on the shared broker are not disturbed.
using testing::PrivateBroker;

class DeliveryTest : public ::testing::Test {
 protected:
  static void TearDownTestSuite() {
    delete private_broker_;
    private_broker_ = nullptr;
  }
  // This build tree's shared test broker (ctest fixture kafka_broker).
  static Result<std::string> Bootstrap() { return TestBrokerBootstrap(); }
  // A broker of this process only, started on first use, which the test
  // may SIGSTOP; nullptr (with a failure recorded) when it did not start.
  static PrivateBroker* Private() {
    if (private_broker_ == nullptr)
      private_broker_ = new PrivateBroker("delivery");
    if (private_broker_->address().find("127.0.0.1:") == std::string::npos) {
      ADD_FAILURE() << "private test broker did not start";
      return nullptr;
    }
    return private_broker_;
  }
  static PrivateBroker* private_broker_;

  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("nf_delivery_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    metrics_port_ = FreeLoopbackPort();
  }
  void TearDown() override { fs::remove_all(dir_); }

  void WriteConfig(const std::string& bootstrap, const std::string& topic,
                   const std::string& proxy, const std::string& full_article,
                   const std::string& extra_kafka = "",
                   const std::string& interval = "1h",
                   const std::string& extra_kafka_keys = "",
                   const std::string& drain_timeout = "5s",
                   const std::string& extra_sections = "") {
    config_path_ = (dir_ / "newsflow.yaml").string();
    std::ofstream(config_path_)
        << "kafka:\n"
        << "  brokers: \"" << bootstrap << "\"\n"
        << "  topic: " << topic << "\n"
        << "  librdkafka: { linger.ms: \"5\"" << extra_kafka << " }\n"
        << extra_kafka_keys << "state:\n"
        << "  path: " << (dir_ / "state.db").string()
        << "\n"
        // A port of our own: the default 127.0.0.1:9464 collides with any
        // other daemon on the host (a second test run, an installed one).
        << "metrics:\n"
        << "  listen: \"127.0.0.1:" << metrics_port_ << "\"\n"
        << "http:\n"
        << "  proxy: \"" << proxy << "\"\n"
        << "  max_host_connections: 1\n"
        << "scheduler:\n"
        << "  min_interval: 1s\n"
        << "pipeline:\n"
        << "  max_in_flight: " << kMaxInFlight << "\n"
        << "  drain_timeout: " << drain_timeout << "\n"
        << extra_sections << "sinks: [kafka]\n"
        << "feeds:\n"
        << "  - name: gen\n"
        << "    url: " << kFeedUrl << "\n"
        << "    interval: " << interval << "\n"
        << "    full_article: " << full_article << "\n";
  }

  // A gauge or counter of the running daemon, scraped from /metrics; -1
  // when the endpoint or the series is not there.
  double Metric(const std::string& series) const {
    auto scraped = HttpGet(metrics_port_, "/metrics");
    if (scraped.status != 200) return -1;
    return PrometheusValue(scraped.body, series).value_or(-1);
  }
  double InFlight() const { return Metric("newsflow_articles_in_flight"); }

  static constexpr int kMaxInFlight = 50;
  std::string config_path_;
  fs::path dir_;
  uint16_t metrics_port_ = 0;
};

PrivateBroker* DeliveryTest::private_broker_ = nullptr;

// Messages in `topic` now (end offsets), or -1 with a failure recorded.
int64_t Count(const std::string& bootstrap, const std::string& topic) {
  auto n = TopicMessageCount(bootstrap, topic);
  EXPECT_TRUE(n) << n.error().ToString();
  return n ? *n : -1;
}

// Waits (bounded) until `topic` holds at least `n` messages; returns the
// count then.
int64_t WaitForCount(const std::string& bootstrap, const std::string& topic,
                     int64_t n, milliseconds timeout) {
  int64_t count = -1;
  WaitUntil(
      [&] {
        auto c = TopicMessageCount(bootstrap, topic);
        count = c ? *c : -1;
        return count >= n;
      },
      timeout);
  return count;
}

// Every message of `topic`, once the daemons writing to it have exited: the
// end offsets say how many there are, so nothing waits for "no more".
std::vector<ConsumedMessage> ReadAll(const std::string& bootstrap,
                                     const std::string& topic) {
  const int64_t n = Count(bootstrap, topic);
  if (n < 0) return {};
  auto messages = ConsumeAll(bootstrap, topic, static_cast<size_t>(n),
                             seconds(60), milliseconds(0));
  EXPECT_EQ(messages.size(), static_cast<size_t>(n));
  return messages;
}

std::set<std::string> Titles(const std::vector<ConsumedMessage>& messages) {
  std::set<std::string> titles;
  for (const auto& m : messages) {
    titles.insert(nlohmann::json::parse(m.value)["title"].get<std::string>());
  }
  return titles;
}

// Checks schema, key/header coherence; returns messages grouped by key.
std::map<std::string, std::vector<const ConsumedMessage*>> ByKey(
    const std::vector<ConsumedMessage>& messages) {
  std::map<std::string, std::vector<const ConsumedMessage*>> by_key;
  for (const auto& m : messages) {
    EXPECT_EQ(ArticleSchemaErrors(m.value), "") << m.value.substr(0, 300);
    auto v = nlohmann::json::parse(m.value);
    EXPECT_EQ(m.key, v["id"].get<std::string>());
    EXPECT_EQ(m.Header("ce_subject"), m.key);
    EXPECT_EQ(m.Header("ce_id"),
              m.key + ":" + v["content_hash"].get<std::string>());
    EXPECT_EQ(m.Header("ce_type"),
              "org.newsflow.article." + v["event"].get<std::string>());
    by_key[m.key].push_back(&m);
  }
  return by_key;
}

TEST_F(DeliveryTest, KillMidPublishRestartUpdateAndNoRepublish) {
  constexpr int kItems = 300;
  PrivateBroker* broker = Private();
  ASSERT_NE(broker, nullptr);
  const std::string bootstrap = broker->address();
  const std::string topic = UniqueTopicName("delivery");
  ASSERT_TRUE(CreateTopic(bootstrap, topic, 3));
  GeneratedSite site(kItems);
  // Pages arrive slowly (one connection, 15 ms each): publishing takes
  // several seconds, so the broker stall lands in the middle of it.
  site.SetPageDelay(milliseconds(15));
  WriteConfig(bootstrap, topic, site.proxy(), "always");

  double in_flight_at_kill = -1;
  {
    DaemonProcess daemon({"run", "--config", config_path_},
                         (dir_ / "run1.log").string());
    ASSERT_GE(WaitForCount(bootstrap, topic, 40, seconds(90)), 40)
        << daemon.Log();
    // Stall the broker so that acks stop, wait until articles are handed
    // to the sink and unacknowledged, then kill -9: the kill provably
    // lands while deliveries are outstanding.
    ASSERT_TRUE(broker->Pause()) << "no broker pid to SIGSTOP";
    const bool in_flight =
        WaitUntil([&] { return InFlight() >= 10; }, seconds(60));
    in_flight_at_kill = InFlight();
    ::kill(daemon.pid(), SIGKILL);
    ASSERT_TRUE(daemon.Wait(seconds(10)).has_value());
    broker->Resume();
    ASSERT_TRUE(in_flight) << "in flight: " << in_flight_at_kill << "\n"
                           << daemon.Log();
  }
  const int64_t before_kill = Count(bootstrap, topic);
  ASSERT_LT(before_kill, kItems)
      << "the kill came after everything was published; the test proves "
         "nothing";

  // Restart: the rest (and whatever was in flight) is published.
  site.SetPageDelay(milliseconds(0));
  auto rerun = RunDaemonCommand({"run", "--config", config_path_, "--once"},
                                seconds(120));
  ASSERT_EQ(rerun.exit_code, 0) << rerun.err;
  auto all = ReadAll(bootstrap, topic);
  // What the site served (computed by the test, not by the daemon's ids)
  // is exactly what the topic holds.
  EXPECT_EQ(Titles(all), site.ServedTitles())
      << "articles lost after kill -9 and restart; messages=" << all.size();
  EXPECT_EQ(site.ServedTitles().size(), static_cast<size_t>(kItems));
  auto by_key = ByKey(all);
  EXPECT_EQ(by_key.size(), static_cast<size_t>(kItems));
  size_t duplicates = 0;
  for (const auto& [key, copies] : by_key) {
    for (size_t i = 1; i < copies.size(); ++i) {
      ++duplicates;
      EXPECT_EQ(StableContent(copies[i]->value),
                StableContent(copies[0]->value))
          << "duplicate of " << key << " differs";
    }
    for (const auto* c : copies) {
      EXPECT_EQ(nlohmann::json::parse(c->value)["event"], "created");
    }
  }
  std::printf(
      "[ delivery ] in flight at kill=%.0f before kill=%lld total=%zu "
      "duplicates=%zu\n",
      in_flight_at_kill, static_cast<long long>(before_kill), all.size(),
      duplicates);

  // Another restart publishes nothing: the feed answers 304 to the stored
  // validators (stored only now that every article was delivered), and the
  // end offsets after exit did not move.
  const size_t not_modified_before = site.NotModifiedAnswers();
  auto third = RunDaemonCommand({"run", "--config", config_path_, "--once"},
                                seconds(120));
  ASSERT_EQ(third.exit_code, 0) << third.err;
  EXPECT_EQ(Count(bootstrap, topic), static_cast<int64_t>(all.size()))
      << "restart republished\n"
      << third.err;
  EXPECT_EQ(site.NotModifiedAnswers(), not_modified_before + 1)
      << "validators not stored after a complete poll\n"
      << third.err;

  // Editing one article: exactly one `updated` event, same key.
  site.Edit(17);
  auto fourth = RunDaemonCommand({"run", "--config", config_path_, "--once"},
                                 seconds(120));
  ASSERT_EQ(fourth.exit_code, 0) << fourth.err;
  auto after_edit = ReadAll(bootstrap, topic);
  ASSERT_EQ(after_edit.size(), all.size() + 1) << fourth.err;
  std::vector<const ConsumedMessage*> updated;
  for (const auto& m : after_edit) {
    if (m.Header("ce_type") == "org.newsflow.article.updated")
      updated.push_back(&m);
  }
  ASSERT_EQ(updated.size(), 1u);
  auto v = nlohmann::json::parse(updated[0]->value);
  EXPECT_EQ(ArticleSchemaErrors(updated[0]->value), "");
  EXPECT_EQ(v["event"], "updated");
  EXPECT_EQ(v["title"], "Story 17 v1");
  EXPECT_NE(v["content_text"].get<std::string>().find("(v1)"),
            std::string::npos);
  // Same id as the original publication of item 17.
  bool same_key = false;
  for (const auto& [key, copies] : by_key) {
    same_key |=
        key == updated[0]->key &&
        nlohmann::json::parse(copies[0]->value)["title"] == "Story 17 v0";
  }
  EXPECT_TRUE(same_key);
}

TEST_F(DeliveryTest, RegeneratedGuidsSwitchToUrlIdsWithoutRepublishing) {
  auto bootstrap = Bootstrap();
  ASSERT_TRUE(bootstrap) << bootstrap.error().ToString();
  const std::string topic = UniqueTopicName("guid");
  const std::string sports = UniqueTopicName("guid-sports");
  const std::string events = UniqueTopicName("guid-events");
  for (const auto& t : {topic, sports, events})
    ASSERT_TRUE(CreateTopic(*bootstrap, t, 1));
  GeneratedSite site(10);
  WriteConfig(*bootstrap, topic, site.proxy(), "never", "", "1h",
              "  events_topic: " + events +
                  "\n  topics_by_category: { Sports: " + sports + " }\n");
  auto run = [&] {
    auto r = RunDaemonCommand({"run", "--config", config_path_, "--once"},
                              seconds(60));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r;
  };
  run();
  // Category routing: odd items are "Sports".
  auto world = ReadAll(*bootstrap, topic);
  auto sport = ReadAll(*bootstrap, sports);
  ASSERT_EQ(world.size(), 5u);
  ASSERT_EQ(sport.size(), 5u);
  for (const auto& m : sport) {
    EXPECT_EQ(nlohmann::json::parse(m.value)["categories"][0], "Sports");
  }
  ByKey(world);
  ByKey(sport);

  // The CMS regenerates every GUID: same stories, new GUIDs. The feed
  // switches to URL ids, announces it, and republishes nothing.
  site.SetGuidSalt(1);
  auto second = run();
  site.SetGuidSalt(2);
  auto third = run();
  // The daemons exited: end offsets are final, no waiting for "no more".
  EXPECT_EQ(Count(*bootstrap, topic), 5) << second.err << third.err;
  EXPECT_EQ(Count(*bootstrap, sports), 5);
  auto announced = ReadAll(*bootstrap, events);
  ASSERT_EQ(announced.size(), 1u) << second.err;
  EXPECT_EQ(announced[0].key, "gen");
  EXPECT_EQ(announced[0].Header("ce_type"),
            "org.newsflow.feed.id_policy_changed");
  auto e = nlohmann::json::parse(announced[0].value);
  EXPECT_EQ(e["type"], "id_policy_changed");
  EXPECT_EQ(e["feed"]["id"], "gen");
  EXPECT_EQ(e["details"]["policy"], "url");
  EXPECT_EQ(e["details"]["reason"], "guids_changed");

  // A new story still gets published (under its URL id).
  site.SetItems(11);
  run();
  auto after = ReadAll(*bootstrap, topic);
  auto after_sports = ReadAll(*bootstrap, sports);
  EXPECT_EQ(after.size() + after_sports.size(), 11u);
  auto titles = Titles(after);
  titles.merge(Titles(after_sports));
  EXPECT_EQ(titles, site.ServedTitles());
}

TEST_F(DeliveryTest, FeedFailureAndRecoveryAreAnnouncedOnTheEventsTopic) {
  auto bootstrap = Bootstrap();
  ASSERT_TRUE(bootstrap) << bootstrap.error().ToString();
  const std::string topic = UniqueTopicName("failevt");
  const std::string events = UniqueTopicName("failevt-events");
  for (const auto& t : {topic, events})
    ASSERT_TRUE(CreateTopic(*bootstrap, t, 1));
  GeneratedSite site(3);
  WriteConfig(*bootstrap, topic, site.proxy(), "never", "", "1h",
              "  events_topic: " + events + "\n");
  site.SetFeedDown(true);
  auto failed = RunDaemonCommand({"run", "--config", config_path_, "--once"},
                                 seconds(60));
  EXPECT_EQ(failed.exit_code, 1) << failed.err;  // --once: a feed failed
  // A second failing poll is the same streak: no second event.
  auto failed_again = RunDaemonCommand(
      {"run", "--config", config_path_, "--once"}, seconds(60));
  EXPECT_EQ(failed_again.exit_code, 1) << failed_again.err;
  site.SetFeedDown(false);
  auto ok = RunDaemonCommand({"run", "--config", config_path_, "--once"},
                             seconds(60));
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(Count(*bootstrap, topic), 3);
  auto announced = ReadAll(*bootstrap, events);
  ASSERT_EQ(announced.size(), 2u) << failed.err << ok.err;
  auto first = nlohmann::json::parse(announced[0].value);
  auto second = nlohmann::json::parse(announced[1].value);
  EXPECT_EQ(first["type"], "fetch_failed");
  EXPECT_EQ(first["feed"]["id"], "gen");
  EXPECT_NE(first["details"]["error"].get<std::string>().find("503"),
            std::string::npos);
  EXPECT_EQ(second["type"], "recovered");
  EXPECT_EQ(second["details"]["failed_polls"], "2");
}

// Issue 12: articles Kafka rejects for good (here: too large for
// message.max.bytes even trimmed to metadata) go to kafka.dead_letter_topic
// with the reason in a header, are recorded (the next poll does not rebuild
// nor resend them) and announced as a feed event.
TEST_F(DeliveryTest, RejectedArticlesGoToTheDeadLetterTopicOnce) {
  auto bootstrap = Bootstrap();
  ASSERT_TRUE(bootstrap) << bootstrap.error().ToString();
  const std::string topic = UniqueTopicName("dlq-src");
  const std::string dlq = UniqueTopicName("dlq");
  const std::string events = UniqueTopicName("dlq-events");
  for (const auto& t : {topic, dlq, events})
    ASSERT_TRUE(CreateTopic(*bootstrap, t, 1));
  GeneratedSite site(3);
  // librdkafka's smallest message.max.bytes: no article fits, not even
  // trimmed to its metadata; the headers-only dead-letter copies do.
  WriteConfig(
      *bootstrap, topic, site.proxy(), "never", ", message.max.bytes: \"1000\"",
      "1h",
      "  events_topic: " + events + "\n  dead_letter_topic: " + dlq + "\n");
  auto first = RunDaemonCommand({"run", "--config", config_path_, "--once"},
                                seconds(60));
  EXPECT_EQ(first.exit_code, 0) << first.err;
  auto dead = ReadAll(*bootstrap, dlq);
  ASSERT_EQ(dead.size(), 3u) << first.err;
  std::set<std::string> keys;
  for (const auto& m : dead) {
    keys.insert(m.key);
    std::map<std::string, std::string> h(m.headers.begin(), m.headers.end());
    EXPECT_EQ(h["newsflow_dead_letter_reason"], "message_too_large");
    EXPECT_EQ(h["newsflow_original_topic"], topic);
    EXPECT_EQ(h["ce_subject"], m.key);
  }
  EXPECT_EQ(keys.size(), 3u);
  EXPECT_EQ(Count(*bootstrap, topic), 0);

  // The next poll sees a new body (one more item): the three recorded
  // items are not rebuilt nor sent again; only the new one is.
  site.SetItems(4);
  auto second = RunDaemonCommand({"run", "--config", config_path_, "--once"},
                                 seconds(60));
  EXPECT_EQ(second.exit_code, 0) << second.err;
  EXPECT_EQ(Count(*bootstrap, dlq), 4);
  EXPECT_EQ(Count(*bootstrap, topic), 0);

  size_t announced = 0;
  for (const auto& m : ReadAll(*bootstrap, events)) {
    auto e = nlohmann::json::parse(m.value);
    if (e["type"] != "dead_lettered") continue;
    ++announced;
    EXPECT_EQ(e["details"]["reason"], "message_too_large");
    keys.insert(e["details"]["article_id"].get<std::string>());
  }
  EXPECT_EQ(announced, 4u);
  EXPECT_EQ(keys.size(), 4u);  // the three above and the new one
}

// Consumes `topic` until the article with title "Story <i> v0" arrived.
std::optional<nlohmann::json> FindStory(const std::string& bootstrap,
                                        const std::string& topic, size_t count,
                                        int i) {
  for (const auto& m : ConsumeAll(bootstrap, topic, count, seconds(60))) {
    EXPECT_EQ(ArticleSchemaErrors(m.value), "") << m.value.substr(0, 300);
    auto v = nlohmann::json::parse(m.value);
    if (v["title"] == "Story " + std::to_string(i) + " v0") return v;
  }
  return std::nullopt;
}

TEST_F(DeliveryTest, ArticleOverTheLocalSizeLimitIsTrimmedAndFlagged) {
  auto bootstrap = Bootstrap();
  ASSERT_TRUE(bootstrap) << bootstrap.error().ToString();
  const std::string topic = UniqueTopicName("toolarge");
  ASSERT_TRUE(CreateTopic(*bootstrap, topic, 1));
  GeneratedSite site(3);
  site.SetHugeItem(1, 100000);
  WriteConfig(*bootstrap, topic, site.proxy(), "never",
              ", message.max.bytes: \"40000\"");
  auto r = RunDaemonCommand({"run", "--config", config_path_, "--once"},
                            seconds(60));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto v = FindStory(*bootstrap, topic, 3, 1);
  ASSERT_TRUE(v.has_value()) << r.err;
  EXPECT_EQ((*v)["truncated"], true);
  EXPECT_EQ((*v)["content_html"], "");
  EXPECT_LE(v->dump().size(), 40000u);
  EXPECT_GT((*v)["content_text"].get<std::string>().size(), 20000u);
  // The others are complete and unflagged.
  auto other = FindStory(*bootstrap, topic, 3, 2);
  ASSERT_TRUE(other.has_value());
  EXPECT_FALSE(other->contains("truncated"));
}

TEST_F(DeliveryTest, ArticleOverTheTopicSizeLimitIsRetriedTrimmedNotLost) {
  auto bootstrap = Bootstrap();
  ASSERT_TRUE(bootstrap) << bootstrap.error().ToString();
  const std::string topic = UniqueTopicName("toolarge-broker");
  ASSERT_TRUE(CreateTopic(*bootstrap, topic, 1));
  // The topic accepts less than the producer's (default, 1 MB) limit: the
  // broker itself rejects the record.
  const char* cache_env = std::getenv("NEWSFLOW_CACHE");
  const std::string cache =
      cache_env != nullptr
          ? cache_env
          : std::string(std::getenv("HOME")) + "/.cache/newsflow";
  int status = -1;
  Shell("java -cp '" + cache +
            "/kafka-libs/*' kafka.admin.ConfigCommand "
            "--bootstrap-server " +
            *bootstrap +
            " --alter --entity-type topics "
            "--entity-name " +
            topic + " --add-config max.message.bytes=30000 2>&1",
        &status);
  ASSERT_EQ(status, 0) << "could not set the topic's max.message.bytes";
  GeneratedSite site(1);
  site.SetHugeItem(0, 100000);
  WriteConfig(*bootstrap, topic, site.proxy(), "never", "", "1s");
  DaemonProcess daemon({"run", "--config", config_path_},
                       (dir_ / "run.log").string());
  auto v = FindStory(*bootstrap, topic, 1, 0);
  ASSERT_TRUE(v.has_value()) << daemon.Log();
  EXPECT_EQ((*v)["truncated"], true);
  EXPECT_NE(daemon.Log().find("too large for the broker"), std::string::npos);
}

TEST_F(DeliveryTest, BrokerStallLosesNothingKeepsMemoryBoundedAndResumes) {
  PrivateBroker* broker = Private();
  ASSERT_NE(broker, nullptr);
  const std::string topic = UniqueTopicName("outage");
  ASSERT_TRUE(CreateTopic(broker->address(), topic, 3));
  GeneratedSite site(20);
  // A short message timeout: the stall outlasts what librdkafka's own
  // retries can hide, so the daemon's retry path is exercised.
  WriteConfig(broker->address(), topic, site.proxy(), "never",
              ", message.timeout.ms: \"8000\", socket.timeout.ms: \"5000\"",
              "1s");
  DaemonProcess daemon({"run", "--config", config_path_},
                       (dir_ / "run.log").string());
  ASSERT_EQ(WaitForCount(broker->address(), topic, 20, seconds(60)), 20)
      << daemon.Log();
  const long rss_before = VmRssKb(daemon.pid());

  ASSERT_TRUE(broker->Pause()) << "no broker pid to SIGSTOP";
  site.SetItems(400);  // 380 new articles while the broker is stalled
  // The poll that sees them fills the pipeline up to the cap...
  double in_flight_max = 0;
  long rss_max = rss_before;
  auto sample = [&] {
    in_flight_max = std::max(in_flight_max, InFlight());
    rss_max = std::max(rss_max, VmRssKb(daemon.pid()));
  };
  const bool filled = WaitUntil(
      [&] {
        sample();
        return in_flight_max >= kMaxInFlight;
      },
      seconds(60));
  const size_t feed_requests_stalled = site.FeedRequests();
  // ...and stays stalled until librdkafka's message timeout failed some
  // deliveries (reported kRetry), sampling the in-flight count throughout.
  const std::string retried =
      "newsflow_articles_failed_total{feed=\"gen\",outcome=\"retry\"}";
  const bool retry_seen = WaitUntil(
      [&] {
        sample();
        return Metric(retried) > 0;
      },
      seconds(60));
  const std::string stalled_log = daemon.Log();
  // Fetching goes on during the outage (the articles wait in the durable
  // outbox, not in memory): the feed (interval 1 s) was fetched again.
  EXPECT_GT(site.FeedRequests(), feed_requests_stalled);
  broker->Resume();
  ASSERT_TRUE(filled) << "in flight never reached pipeline.max_in_flight ("
                      << in_flight_max << "): the stall proves nothing\n"
                      << stalled_log;
  // Bounded: never more than pipeline.max_in_flight handed to the sink and
  // unacknowledged, however many articles wait in the feed.
  EXPECT_LE(in_flight_max, kMaxInFlight);
  EXPECT_TRUE(retry_seen) << "no delivery failed: the stall was too short";

  // Delivery resumes by itself; then the daemon drains and exits.
  EXPECT_GE(WaitForCount(broker->address(), topic, 400, seconds(120)), 400)
      << daemon.Log().substr(0, 20000);
  // Readiness noticed the outage (metadata probe), and retries happened.
  EXPECT_NE(stalled_log.find("broker unreachable"), std::string::npos)
      << stalled_log;
  EXPECT_TRUE(WaitUntil(
      [&] {
        return daemon.Log().find("broker reachable again") != std::string::npos;
      },
      seconds(30)));
  daemon.Signal(SIGTERM);
  auto code = daemon.Wait(seconds(30));
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0) << daemon.Log();
  auto all = ReadAll(broker->address(), topic);
  EXPECT_EQ(Titles(all), site.ServedTitles())
      << "lost articles across the stall; messages=" << all.size();
  EXPECT_EQ(site.ServedTitles().size(), 400u);
  EXPECT_EQ(ByKey(all).size(), 400u);
  std::printf(
      "[ delivery ] in flight max during stall=%.0f (cap %d) rss before=%ld "
      "KB max=%ld KB messages=%zu\n",
      in_flight_max, kMaxInFlight, rss_before, rss_max, all.size());
  // A leak check; the in-flight cap above is the bound's real proof.
  EXPECT_LT(rss_max - rss_before, 64 * 1024) << "RSS grew during the stall";
  // The stall outlasted librdkafka's message timeout: deliveries failed,
  // were reported kRetry, and the daemon's own retry path delivered them.
  const std::string log = daemon.Log();
  const auto at = log.find("retried=");
  ASSERT_NE(at, std::string::npos) << log;
  EXPECT_GT(std::atoi(log.c_str() + at + 8), 0);
}

// SIGTERM while articles are in flight (the broker stalled): /readyz says
// 503 during the drain; the broker back within drain_timeout, everything
// in flight is delivered and the daemon exits 0 before the deadline.
TEST_F(DeliveryTest, SigtermDrainsInFlightArticlesWhenTheBrokerComesBack) {
  PrivateBroker* broker = Private();
  ASSERT_NE(broker, nullptr);
  const std::string topic = UniqueTopicName("drain");
  ASSERT_TRUE(CreateTopic(broker->address(), topic, 3));
  GeneratedSite site(120);
  WriteConfig(broker->address(), topic, site.proxy(), "never", "", "1h", "",
              "60s");
  ASSERT_TRUE(broker->Pause()) << "no broker pid to SIGSTOP";
  DaemonProcess daemon({"run", "--config", config_path_},
                       (dir_ / "run.log").string());
  const bool filled =
      WaitUntil([&] { return InFlight() >= kMaxInFlight; }, seconds(60));
  const double in_flight = InFlight();
  if (!filled) broker->Resume();
  ASSERT_TRUE(filled) << in_flight << "\n" << daemon.Log();

  daemon.Signal(SIGTERM);
  const auto sigterm_at = std::chrono::steady_clock::now();
  HttpResult readyz;
  WaitUntil(
      [&] {
        readyz = HttpGet(metrics_port_, "/readyz");
        return readyz.status == 503 &&
               readyz.body.find("shutting down") != std::string::npos;
      },
      seconds(10));
  EXPECT_FALSE(daemon.Wait(milliseconds(0)).has_value())
      << "exited before anything was delivered\n"
      << daemon.Log();
  broker->Resume();
  auto code = daemon.Wait(seconds(60));
  const auto drained_in = std::chrono::steady_clock::now() - sigterm_at;
  EXPECT_EQ(readyz.status, 503) << readyz.body;
  EXPECT_NE(readyz.body.find("shutting down"), std::string::npos)
      << readyz.body;
  ASSERT_TRUE(code.has_value()) << daemon.Log();
  EXPECT_EQ(*code, 0) << daemon.Log();
  EXPECT_LT(drained_in, seconds(55)) << "waited for the drain deadline";
  EXPECT_EQ(daemon.Log().find("Drain deadline passed"), std::string::npos)
      << daemon.Log();
  // Everything in flight at SIGTERM was delivered before the exit.
  auto delivered = ReadAll(broker->address(), topic);
  EXPECT_GE(delivered.size(), static_cast<size_t>(in_flight));
  // The next start publishes the rest (the poll stopped by SIGTERM), and
  // nothing the first run delivered is published twice.
  auto rerun = RunDaemonCommand({"run", "--config", config_path_, "--once"},
                                seconds(120));
  ASSERT_EQ(rerun.exit_code, 0) << rerun.err;
  auto all = ReadAll(broker->address(), topic);
  EXPECT_EQ(Titles(all), site.ServedTitles());
  EXPECT_EQ(all.size(), site.ServedTitles().size())
      << "drained articles were published again";
}

// SIGTERM while the broker stays stalled: the daemon gives up at about
// drain_timeout, exits 0, and the next start delivers what was undelivered.
TEST_F(DeliveryTest, SigtermExitsAtTheDrainTimeoutAndTheNextStartDelivers) {
  PrivateBroker* broker = Private();
  ASSERT_NE(broker, nullptr);
  const std::string topic = UniqueTopicName("drain-timeout");
  ASSERT_TRUE(CreateTopic(broker->address(), topic, 3));
  GeneratedSite site(80);
  WriteConfig(broker->address(), topic, site.proxy(), "never", "", "1h", "",
              "4s");
  ASSERT_TRUE(broker->Pause()) << "no broker pid to SIGSTOP";
  std::optional<int> code;
  std::chrono::steady_clock::duration took{};
  std::string log;
  {
    DaemonProcess daemon({"run", "--config", config_path_},
                         (dir_ / "run.log").string());
    const bool filled =
        WaitUntil([&] { return InFlight() >= kMaxInFlight; }, seconds(60));
    if (!filled) broker->Resume();
    ASSERT_TRUE(filled) << daemon.Log();
    daemon.Signal(SIGTERM);
    const auto sigterm_at = std::chrono::steady_clock::now();
    code = daemon.Wait(seconds(30));
    took = std::chrono::steady_clock::now() - sigterm_at;
    log = daemon.Log();
  }
  broker->Resume();
  ASSERT_TRUE(code.has_value()) << "no exit 30 s after SIGTERM\n" << log;
  EXPECT_EQ(*code, 0) << log;
  EXPECT_GE(took, milliseconds(3500)) << "did not wait for the drain";
  EXPECT_LE(took, seconds(20)) << "drain_timeout 4s not honoured";
  EXPECT_NE(log.find("Drain deadline passed"), std::string::npos) << log;
  // The next start delivers everything the site served.
  auto rerun = RunDaemonCommand({"run", "--config", config_path_, "--once"},
                                seconds(120));
  ASSERT_EQ(rerun.exit_code, 0) << rerun.err;
  auto all = ReadAll(broker->address(), topic);
  EXPECT_EQ(Titles(all), site.ServedTitles());
  EXPECT_EQ(site.ServedTitles().size(), 80u);
  ByKey(all);
}

// ---- issue 12: the durable outbox -------------------------------------

// SIGCONTs the private broker on every way out of a test.
struct ResumeBrokerOnExit {
  PrivateBroker* broker;
  ~ResumeBrokerOnExit() {
    if (broker != nullptr) broker->Resume();
  }
};

// Checks per-key order (created, then updated; versions never go back) and
// that duplicates carry identical content; returns the duplicate count.
size_t CheckOrderAndDuplicates(const std::vector<ConsumedMessage>& all) {
  size_t duplicates = 0;
  for (const auto& [key, copies] : ByKey(all)) {
    std::map<std::string, nlohmann::json> by_title;
    int last_version = -1;
    for (size_t i = 0; i < copies.size(); ++i) {
      auto v = nlohmann::json::parse(copies[i]->value);
      const std::string title = v["title"].get<std::string>();
      const int version = std::atoi(title.c_str() + title.rfind('v') + 1);
      EXPECT_GE(version, last_version)
          << key << ": " << title << " overtook a newer version";
      last_version = version;
      if (i == 0) {
        EXPECT_EQ(v["event"], "created") << key;
      }
      if (version > 0) {
        EXPECT_EQ(v["event"], "updated") << key;
      }
      auto [it, inserted] =
          by_title.emplace(title, StableContent(copies[i]->value));
      if (!inserted) {
        ++duplicates;
        EXPECT_EQ(it->second, StableContent(copies[i]->value))
            << "duplicate of " << key << " differs";
      }
    }
  }
  return duplicates;
}

// A busy feed (3 new items per 1 s poll, 12 listed) while the broker is
// SIGSTOPped three times over librdkafka's message timeout, with a kill -9
// and a restart in the middle of the outage: every item the feed ever
// showed reaches the topic, duplicates are identical, per-key order holds.
// Before the outbox, items that left the feed during the outage were lost.
TEST_F(DeliveryTest, OutboxKeepsABusyFeedAcrossAStallAndKill9) {
  PrivateBroker* broker = Private();
  ASSERT_NE(broker, nullptr);
  ResumeBrokerOnExit resume{broker};
  const std::string topic = UniqueTopicName("outbox");
  ASSERT_TRUE(CreateTopic(broker->address(), topic, 3));
  GeneratedSite site(0);
  site.SetSlide(3, 12);
  WriteConfig(broker->address(), topic, site.proxy(), "never",
              ", message.timeout.ms: \"4000\", socket.timeout.ms: \"3000\"",
              "1s");
  auto daemon = std::make_unique<DaemonProcess>(
      std::vector<std::string>{"run", "--config", config_path_},
      (dir_ / "run1.log").string());
  ASSERT_GE(WaitForCount(broker->address(), topic, 12, seconds(60)), 12)
      << daemon->Log();

  ASSERT_TRUE(broker->Pause()) << "no broker pid to SIGSTOP";
  const auto stalled_at = std::chrono::steady_clock::now();
  const size_t requests_at_stall = site.FeedRequests();
  // Polling goes on; built articles pile up in the outbox.
  const bool spooled = WaitUntil(
      [&] { return Metric("newsflow_outbox_articles") >= 20; }, seconds(30));
  const double outbox_before_kill = Metric("newsflow_outbox_articles");
  const std::string status_log = daemon->Log();
  ::kill(daemon->pid(), SIGKILL);
  ASSERT_TRUE(daemon->Wait(seconds(10)).has_value());
  const std::string log1 = daemon->Log();
  daemon.reset();
  ASSERT_TRUE(spooled) << "outbox=" << outbox_before_kill << "\n" << log1;
  EXPECT_GT(site.FeedRequests(), requests_at_stall + 3)
      << "fetching stopped during the outage";

  // Restart during the outage: the outbox is resumed, polling goes on.
  daemon = std::make_unique<DaemonProcess>(
      std::vector<std::string>{"run", "--config", config_path_},
      (dir_ / "run2.log").string());
  const size_t requests_at_restart = site.FeedRequests();
  // Three message timeouts and more.
  while (std::chrono::steady_clock::now() - stalled_at < seconds(14)) {
    std::this_thread::sleep_for(milliseconds(200));
  }
  const double outbox_stalled = Metric("newsflow_outbox_articles");
  const double oldest_age = Metric("newsflow_outbox_oldest_age_seconds");
  EXPECT_GT(site.FeedRequests(), requests_at_restart + 2) << daemon->Log();
  EXPECT_GE(outbox_stalled, outbox_before_kill) << daemon->Log();
  EXPECT_GT(oldest_age, 3.0);
  EXPECT_NE(daemon->Log().find("Resuming the outbox"), std::string::npos)
      << daemon->Log();
  broker->Resume();

  // Everything the feed ever listed arrives.
  site.SetSlide(0, 12);  // freeze: the set to deliver stops growing
  std::this_thread::sleep_for(milliseconds(1500));
  const std::set<std::string> served = site.ServedTitles();
  const bool all_there = WaitUntil(
      [&] {
        auto n = TopicMessageCount(broker->address(), topic);
        return n && *n >= static_cast<int64_t>(served.size()) &&
               Metric("newsflow_outbox_articles") == 0;
      },
      seconds(120));
  EXPECT_TRUE(all_there) << daemon->Log().substr(0, 20000);
  daemon->Signal(SIGTERM);
  auto code = daemon->Wait(seconds(30));
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0) << daemon->Log();
  auto all = ReadAll(broker->address(), topic);
  std::set<std::string> missing;
  const auto titles = Titles(all);
  for (const auto& t : served) {
    if (!titles.contains(t)) missing.insert(t);
  }
  EXPECT_TRUE(missing.empty()) << missing.size() << " of " << served.size()
                               << " lost, first " << *missing.begin();
  const size_t duplicates = CheckOrderAndDuplicates(all);
  std::printf(
      "[ outbox ] served=%zu messages=%zu duplicates=%zu outbox before "
      "kill=%.0f during stall=%.0f feed requests=%zu\n",
      served.size(), all.size(), duplicates, outbox_before_kill, outbox_stalled,
      site.FeedRequests());
  EXPECT_GT(served.size(), 40u) << "the feed did not move on enough";
}

// A tiny outbox (outbox.max_bytes 64 KiB, ~5 KB articles) and the broker
// stalled: the outbox fills, polling pauses (no feed requests), RSS stays
// flat, /readyz and the log say why; the broker back, it drains and polling
// resumes. Nothing is lost.
TEST_F(DeliveryTest, FullOutboxPausesPollingAndResumes) {
  PrivateBroker* broker = Private();
  ASSERT_NE(broker, nullptr);
  ResumeBrokerOnExit resume{broker};
  const std::string topic = UniqueTopicName("outbox-full");
  ASSERT_TRUE(CreateTopic(broker->address(), topic, 3));
  GeneratedSite site(0);
  site.SetSlide(4, 12);
  WriteConfig(broker->address(), topic, site.proxy(), "never",
              ", message.timeout.ms: \"4000\", socket.timeout.ms: \"3000\"",
              "1s", "", "5s", "outbox:\n  max_bytes: 64KiB\n");
  DaemonProcess daemon({"run", "--config", config_path_},
                       (dir_ / "run.log").string());
  ASSERT_GE(WaitForCount(broker->address(), topic, 12, seconds(60)), 12)
      << daemon.Log();
  ASSERT_TRUE(broker->Pause()) << "no broker pid to SIGSTOP";
  const bool full = WaitUntil(
      [&] { return daemon.Log().find("Outbox full") != std::string::npos; },
      seconds(60));
  ASSERT_TRUE(full) << daemon.Log();
  std::this_thread::sleep_for(milliseconds(1500));  // a poll under way ends
  const size_t requests_full = site.FeedRequests();
  const long rss_full = VmRssKb(daemon.pid());
  const auto readyz = HttpGet(metrics_port_, "/readyz");
  long rss_max = rss_full;
  for (int i = 0; i < 40; ++i) {  // 8 s: eight poll intervals
    std::this_thread::sleep_for(milliseconds(200));
    rss_max = std::max(rss_max, VmRssKb(daemon.pid()));
  }
  const size_t requests_later = site.FeedRequests();
  const double bytes = Metric("newsflow_outbox_bytes");
  broker->Resume();
  EXPECT_EQ(requests_later, requests_full)
      << "polled while the outbox was full";
  EXPECT_EQ(readyz.status, 503);
  EXPECT_NE(readyz.body.find("outbox full"), std::string::npos) << readyz.body;
  EXPECT_GE(bytes, 64 * 1024);
  EXPECT_LT(bytes, 64 * 1024 + 64 * 1024) << "overshot the budget by a lot";
  EXPECT_LT(rss_max - rss_full, 8 * 1024) << "RSS grew while paused";

  // Drains, polling resumes.
  EXPECT_TRUE(WaitUntil(
      [&] { return site.FeedRequests() > requests_later + 2; }, seconds(60)))
      << daemon.Log();
  EXPECT_NE(daemon.Log().find("Outbox has room again"), std::string::npos);
  site.SetSlide(0, 12);
  std::this_thread::sleep_for(milliseconds(1500));
  const std::set<std::string> served = site.ServedTitles();
  EXPECT_TRUE(WaitUntil(
      [&] {
        auto n = TopicMessageCount(broker->address(), topic);
        return n && *n >= static_cast<int64_t>(served.size()) &&
               Metric("newsflow_outbox_articles") == 0;
      },
      seconds(120)));
  daemon.Signal(SIGTERM);
  ASSERT_TRUE(daemon.Wait(seconds(30)).has_value());
  auto all = ReadAll(broker->address(), topic);
  const auto titles = Titles(all);
  for (const auto& t : served) EXPECT_TRUE(titles.contains(t)) << t << " lost";
  CheckOrderAndDuplicates(all);
  std::printf("[ outbox ] full at %.0f bytes; rss %ld -> max %ld KB\n", bytes,
              rss_full, rss_max);
}

}  // namespace
}  // namespace newsflow::testing
