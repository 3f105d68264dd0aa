// End to end, with real parts only: the real newsflowd binary, a real HTTP
// server on 127.0.0.1 serving the corpus seed site (reached through the
// daemon's HTTP proxy setting), and a real Kafka broker started by
// scripts/kafka-broker (ctest fixture kafka_broker).

#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/integration/seed_fixture.h"
#include "tests/testing/corpus.h"
#include "tests/testing/daemon_process.h"
#include "tests/testing/kafka_test_util.h"
#include "tests/testing/schema_check.h"

namespace newsflow::testing {
namespace {

namespace fs = std::filesystem;
using std::chrono::seconds;

class SeedPipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    NF_REQUIRE_CORPUS("seed");
    auto bootstrap = TestBrokerBootstrap();
    ASSERT_TRUE(bootstrap) << bootstrap.error().ToString();
    bootstrap_ = *bootstrap;
    topic_ = UniqueTopicName("seed");
    auto created = CreateTopic(bootstrap_, topic_, 3);
    ASSERT_TRUE(created) << created.error().ToString();
    server_ = StartSeedServer();
    dir_ = fs::temp_directory_path() /
           ("nf_seed_" + std::to_string(::getpid()) + "_" + topic_);
    fs::create_directories(dir_);
    config_path_ = (dir_ / "newsflow.yaml").string();
    std::ofstream(config_path_)
        << "kafka:\n"
        << "  brokers: \"" << bootstrap_ << "\"\n"
        << "  topic: " << topic_ << "\n"
        << "  librdkafka: { linger.ms: \"5\" }\n"
        << "metrics:\n  listen: \"\"\n"
        << "state:\n"
        << "  path: " << (dir_ / "state.db").string() << "\n"
        << "http:\n"
        << "  proxy: \"" << server_->base_url() << "\"\n"
        << "scheduler:\n"
        << "  min_interval: 1s\n"
        << "sinks: [kafka]\n"
        << "feeds:\n"
        << "  - name: frontier-world\n"
        << "    url: " << kSeedFeedUrl << "\n"
        << "    interval: 1h\n"
        << "    full_article: auto\n";
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  std::string bootstrap_, topic_, config_path_;
  fs::path dir_;
  std::unique_ptr<LoopbackHttpServer> server_;
};

void ExpectNoBoilerplate(const ConsumedMessage& m) {
  for (const std::string& b : kSeedBoilerplate) {
    EXPECT_EQ(m.value.find(b), std::string::npos)
        << "\"" << b << "\" leaked into " << m.key;
  }
}

TEST_F(SeedPipelineTest, PublishesBothSeedArticlesCleanAndNothingOnRestart) {
  DaemonProcess daemon({"run", "--config", config_path_},
                       (dir_ / "run1.log").string());
  auto messages = ConsumeAll(bootstrap_, topic_, 2, seconds(90),
                             std::chrono::milliseconds(0));
  ASSERT_EQ(messages.size(), 2u) << daemon.Log();

  // SIGTERM drains and exits 0.
  daemon.Signal(SIGTERM);
  auto code = daemon.Wait(seconds(45));
  ASSERT_TRUE(code.has_value()) << "daemon did not exit after SIGTERM\n"
                                << daemon.Log();
  EXPECT_EQ(*code, 0) << daemon.Log();
  // Exactly the two seed articles: end offsets after the exit.
  auto count = TopicMessageCount(bootstrap_, topic_);
  ASSERT_TRUE(count) << count.error().ToString();
  EXPECT_EQ(*count, 2);

  std::map<std::string, nlohmann::json> by_title;
  for (const auto& m : messages) {
    auto v = nlohmann::json::parse(m.value);
    EXPECT_EQ(ArticleSchemaErrors(m.value), "") << m.value;
    EXPECT_EQ(m.key, v["id"].get<std::string>());
    EXPECT_EQ(m.Header("ce_subject"), m.key);
    EXPECT_EQ(m.Header("ce_specversion"), "1.0");
    EXPECT_EQ(m.Header("ce_source"), "/feeds/frontier-world");
    EXPECT_EQ(m.Header("ce_id"),
              m.key + ":" + v["content_hash"].get<std::string>());
    EXPECT_EQ(v["event"], "created");
    EXPECT_EQ(v["schema_version"], 1);
    EXPECT_EQ(v["feed"]["id"], "frontier-world");
    ExpectNoBoilerplate(m);
    by_title[v["title"].get<std::string>()] = v;
  }

  const auto& first = by_title
      ["Taliban Claims Killing 58 Pakistani Soldiers in Fierce Cross-Border "
       "Clashes"];
  ASSERT_FALSE(first.is_null()) << "item 1 missing";
  EXPECT_EQ(SquashWhitespace(first["content_text"].get<std::string>()),
            SquashWhitespace(ReadFileOrDie(SeedDir() + "/article.gold.txt")));
  EXPECT_EQ(first["content_source"], "page");
  EXPECT_EQ(first["authors"], nlohmann::json::array({"Staff Reporter"}));
  EXPECT_EQ(first["published"], "2025-10-12T01:40:00Z");
  EXPECT_EQ(first["canonical_url"],
            "http://frontier-ledger.example/2025/10/12/"
            "taliban-claims-killing-58-pakistani-soldiers/");
  EXPECT_EQ(first["categories"],
            nlohmann::json::array({"World", "Durand Line", "Taliban"}));
  EXPECT_EQ(first["image"],
            "http://frontier-ledger.example/wp-content/uploads/2025/10/"
            "durand-line.jpg");

  const auto& second =
      by_title["Torkham crossing closed for third day as talks stall"];
  ASSERT_FALSE(second.is_null()) << "item 2 missing";
  EXPECT_EQ(second["content_source"], "feed");
  const std::string text = second["content_text"].get<std::string>();
  // Exactly two paragraphs: one separator, not zero (find == rfind == npos
  // would also pass an equality check).
  const size_t separator = text.find("\n\n");
  EXPECT_NE(separator, std::string::npos)
      << "expected two paragraphs, got one: " << text;
  EXPECT_EQ(separator, text.rfind("\n\n"))
      << "expected exactly two paragraphs: " << text;
  EXPECT_EQ(text.rfind("Trade through the Torkham crossing", 0), 0u) << text;
  EXPECT_NE(text.find("while negotiations continue."), std::string::npos)
      << text;
  EXPECT_EQ(second["content_html"].get<std::string>().find("feedburner"),
            std::string::npos);

  // The page for item 1 was really fetched through the loopback server.
  bool page_fetched = false;
  for (const auto& r : server_->requests())
    page_fetched |= r.path == kSeedArticlePath;
  EXPECT_TRUE(page_fetched);

  // A restart publishes nothing new: the state store remembers both.
  auto rerun = RunDaemonCommand({"run", "--config", config_path_, "--once"},
                                seconds(60));
  EXPECT_EQ(rerun.exit_code, 0) << rerun.err;
  // The daemon exited: the end offsets are final (no read window).
  auto after = TopicMessageCount(bootstrap_, topic_);
  ASSERT_TRUE(after) << after.error().ToString();
  EXPECT_EQ(*after, 2) << "restart republished:\n" << rerun.err;
}

}  // namespace
}  // namespace newsflow::testing
