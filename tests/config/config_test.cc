#include "config/config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "connectors/builtin.h"
#include "connectors/sinks/jsonl/jsonl_sink_descriptor.h"
#include "connectors/sinks/kafka/kafka_sink_descriptor.h"

namespace newsflow {
namespace {

using namespace std::chrono_literals;

// The settings the sink descriptors read from their keys.
const KafkaSinkOptions& Kafka(const DaemonConfig& cfg) {
  return static_cast<const KafkaSinkSettings&>(cfg.SinkSettingsFor("kafka"))
      .options;
}
const std::string& JsonlPath(const DaemonConfig& cfg) {
  return static_cast<const JsonlSinkSettings&>(cfg.SinkSettingsFor("jsonl"))
      .options.path;
}

// Loads `yaml` as "t.yaml" and returns the error line, or "OK".
std::string ErrorOf(std::string_view yaml) {
  auto cfg = LoadConfigString(yaml, "t.yaml", BuiltinSinks());
  if (cfg) return "OK";
  EXPECT_EQ(cfg.error().code(), Errc::kConfig);
  return cfg.error().ToString();
}

constexpr std::string_view kDesignExample = R"yaml(kafka:
  brokers: "127.0.0.1:9092"
  topic: news.articles.v1
  librdkafka: { compression.type: zstd }     # passed through verbatim
state:
  path: /var/lib/newsflow/state.db
http:
  user_agent: "newsflowd/1.0 (+https://example.org/bot)"
  proxy: ""                                   # optional, also per feed
metrics:
  listen: "127.0.0.1:9464"
sinks: [kafka]                                # kafka | jsonl ; jsonl needs jsonl_path
jsonl_path: ""
feeds:
  - name: frontier-world
    url: http://frontier-ledger.example/category/world/feed/
    interval: 15m
    full_article: auto                        # auto | always | never
)yaml";

TEST(ConfigTest, DesignExampleLoads) {
  auto cfg = LoadConfigString(kDesignExample, "design.yaml", BuiltinSinks());
  ASSERT_TRUE(cfg) << cfg.error().ToString();
  EXPECT_EQ(cfg->source_path, "design.yaml");
  EXPECT_EQ(Kafka(*cfg).brokers, "127.0.0.1:9092");
  EXPECT_EQ(Kafka(*cfg).topic, "news.articles.v1");
  ASSERT_EQ(Kafka(*cfg).librdkafka.size(), 1u);
  EXPECT_EQ(Kafka(*cfg).librdkafka.at("compression.type"), "zstd");
  EXPECT_EQ(cfg->state.path, "/var/lib/newsflow/state.db");
  EXPECT_EQ(cfg->http.user_agent, "newsflowd/1.0 (+https://example.org/bot)");
  EXPECT_EQ(cfg->http.proxy, "");
  EXPECT_EQ(cfg->metrics.listen, "127.0.0.1:9464");
  EXPECT_EQ(cfg->sinks, std::vector<std::string>{"kafka"});
  EXPECT_EQ(JsonlPath(*cfg), "");
  ASSERT_EQ(cfg->feeds.size(), 1u);
  const FeedConfig& f = cfg->feeds[0];
  EXPECT_EQ(f.name, "frontier-world");
  EXPECT_EQ(f.url, "http://frontier-ledger.example/category/world/feed/");
  EXPECT_EQ(f.interval, 900s);
  EXPECT_EQ(f.full_article, FullArticleMode::kAuto);
  EXPECT_EQ(f.sink_options.count("topic"), 0u);
  EXPECT_TRUE(f.headers.empty());
}

TEST(ConfigTest, EmptyDocumentGivesDefaults) {
  for (std::string_view doc : {"", "# only a comment\n", "{}"}) {
    auto cfg = LoadConfigString(doc, "empty.yaml", BuiltinSinks());
    ASSERT_TRUE(cfg) << cfg.error().ToString();
    DaemonConfig d;
    EXPECT_EQ(Kafka(*cfg).brokers, KafkaSinkOptions{}.brokers);
    EXPECT_EQ(Kafka(*cfg).topic, "news.articles.v1");
    EXPECT_EQ(cfg->state.path, "/var/lib/newsflow/state.db");
    EXPECT_EQ(cfg->state.retention, std::chrono::hours(24 * 90));
    EXPECT_EQ(cfg->http.connect_timeout, 10s);
    EXPECT_EQ(cfg->http.total_timeout, 30s);
    EXPECT_EQ(cfg->http.max_body_bytes, 16u << 20);
    EXPECT_EQ(cfg->http.max_redirects, 5);
    EXPECT_EQ(cfg->http.max_host_connections, 2);
    EXPECT_EQ(cfg->http.max_concurrent, 256u);
    EXPECT_EQ(cfg->scheduler.min_interval, 300s);
    EXPECT_EQ(cfg->scheduler.max_interval, 86400s);
    EXPECT_EQ(cfg->pipeline.max_in_flight, 1000u);
    EXPECT_EQ(cfg->pipeline.drain_timeout, 30s);
    EXPECT_EQ(cfg->pipeline.first_poll_backlog, 0u);
    EXPECT_EQ(cfg->log.level, "info");
    EXPECT_EQ(cfg->log.format, "text");
    EXPECT_EQ(cfg->sinks, std::vector<std::string>{"kafka"});
    EXPECT_TRUE(cfg->feeds.empty());
  }
}

TEST(ConfigTest, AllSectionsAndDefaultsBlock) {
  constexpr std::string_view kYaml = R"yaml(
feeds:
  - name: a
    url: https://a.example/feed
  - name: b.2_x
    url: http://b.example:8080/rss?x=1
    interval: 90
    full_article: never
    user_agent: custom
    headers: {X-Api-Key: k1, Accept: "application/rss+xml"}
    remove_selectors: [".ad", "#share"]
    keep_selectors: ["article"]
    language: pt-BR
    topic: other.topic
    proxy: http://p:3128
defaults:          # after feeds on purpose: order must not matter
  interval: 1h30m
  full_article: always
  user_agent: "default-ua"
  headers: {X-Default: yes}
state: {retention: 7d}
http:
  connect_timeout: 500ms
  total_timeout: 1m
  max_body_bytes: 512KiB
  max_redirects: 0
  max_host_connections: 4
  max_concurrent: 64
scheduler: {min_interval: 1s, max_interval: 2h}
pipeline: {max_in_flight: 10, drain_timeout: 0s, first_poll_backlog: 5}
log: {level: debug, format: json}
sinks: [jsonl, kafka]
jsonl_path: "-"
metrics: {listen: "[::1]:0"}
)yaml";
  auto cfg = LoadConfigString(kYaml, "t.yaml", BuiltinSinks());
  ASSERT_TRUE(cfg) << cfg.error().ToString();
  EXPECT_EQ(cfg->state.retention, std::chrono::hours(24 * 7));
  EXPECT_EQ(cfg->http.connect_timeout, 500ms);
  EXPECT_EQ(cfg->http.total_timeout, 60s);
  EXPECT_EQ(cfg->http.max_body_bytes, 512u * 1024);
  EXPECT_EQ(cfg->http.max_redirects, 0);
  EXPECT_EQ(cfg->http.max_host_connections, 4);
  EXPECT_EQ(cfg->http.max_concurrent, 64u);
  EXPECT_EQ(cfg->scheduler.min_interval, 1s);
  EXPECT_EQ(cfg->scheduler.max_interval, 7200s);
  EXPECT_EQ(cfg->pipeline.max_in_flight, 10u);
  EXPECT_EQ(cfg->pipeline.drain_timeout, 0s);
  EXPECT_EQ(cfg->pipeline.first_poll_backlog, 5u);
  EXPECT_EQ(cfg->log.level, "debug");
  EXPECT_EQ(cfg->log.format, "json");
  EXPECT_EQ(cfg->sinks, (std::vector<std::string>{"jsonl", "kafka"}));
  EXPECT_EQ(JsonlPath(*cfg), "-");
  EXPECT_EQ(cfg->metrics.listen, "[::1]:0");
  ASSERT_EQ(cfg->feeds.size(), 2u);

  const FeedConfig& a = cfg->feeds[0];  // all from defaults
  EXPECT_EQ(a.interval, 5400s);
  EXPECT_EQ(a.full_article, FullArticleMode::kAlways);
  EXPECT_EQ(a.user_agent, "default-ua");
  ASSERT_EQ(a.headers.size(), 1u);
  EXPECT_EQ(a.headers[0],
            (std::pair<std::string, std::string>{"X-Default", "yes"}));

  const FeedConfig& b = cfg->feeds[1];  // own values replace defaults
  EXPECT_EQ(b.name, "b.2_x");
  EXPECT_EQ(b.url, "http://b.example:8080/rss?x=1");
  EXPECT_EQ(b.interval, 90s);
  EXPECT_EQ(b.full_article, FullArticleMode::kNever);
  EXPECT_EQ(b.user_agent, "custom");
  EXPECT_EQ(b.sink_options.at("topic"), "other.topic");
  EXPECT_EQ(b.proxy, "http://p:3128");
  ASSERT_EQ(b.headers.size(), 2u);
  EXPECT_EQ(b.headers[0].first, "X-Api-Key");
  EXPECT_EQ(b.headers[0].second, "k1");
  EXPECT_EQ(b.headers[1].second, "application/rss+xml");
  EXPECT_EQ(b.remove_selectors, (std::vector<std::string>{".ad", "#share"}));
  EXPECT_EQ(b.keep_selectors, std::vector<std::string>{"article"});
  EXPECT_EQ(b.language, "pt-BR");
}

TEST(ConfigTest, NullValueMeansDefault) {
  auto cfg = LoadConfigString("http:\n  proxy:\n  max_redirects:\n", "t.yaml",
                              BuiltinSinks());
  ASSERT_TRUE(cfg) << cfg.error().ToString();
  EXPECT_EQ(cfg->http.max_redirects, 5);
}

// Every error kind, with its exact location and message.
// The scheduler's rule: an interval written on the feed is used as is; a
// feed that only inherits defaults.interval (or the built-in 15m) follows
// the adaptive estimate.
TEST(ConfigTest, IntervalWrittenOnTheFeedIsMarkedExplicit) {
  auto cfg = LoadConfigString(R"(
defaults:
  interval: 10m
feeds:
  - {name: pinned, url: "http://a.example/f", interval: 2s}
  - {name: inherited, url: "http://b.example/f"}
  - {name: unset, url: "http://c.example/f", interval: }
)",
                              "t.yaml", BuiltinSinks());
  ASSERT_TRUE(cfg) << cfg.error().ToString();
  ASSERT_EQ(cfg->feeds.size(), 3u);
  EXPECT_TRUE(cfg->feeds[0].interval_explicit);
  EXPECT_EQ(cfg->feeds[0].interval, 2s);
  EXPECT_FALSE(cfg->feeds[1].interval_explicit);
  EXPECT_EQ(cfg->feeds[1].interval, 10min);
  EXPECT_FALSE(cfg->feeds[2].interval_explicit);
}

TEST(ConfigErrorTest, InvalidDuration) {
  EXPECT_EQ(ErrorOf("feeds:\n"
                    "  - name: a\n"
                    "    url: http://a.example/feed\n"
                    "    interval: 15x\n"),
            "t.yaml:4:15: feeds[0].interval: invalid duration \"15x\" (use "
            "e.g. 90s, 15m, 1h)");
}

TEST(ConfigErrorTest, DurationNotWholeOrOutOfRange) {
  EXPECT_EQ(
      ErrorOf("feeds:\n"
              "  - {name: a, url: \"http://a.example/\", interval: 1500ms}\n"),
      "t.yaml:2:51: feeds[0].interval: 1s500ms is not a whole number of 1s");
  EXPECT_EQ(ErrorOf("scheduler:\n  min_interval: 0s\n"),
            "t.yaml:2:17: scheduler.min_interval: 0s is out of range 1s..30d");
  EXPECT_EQ(ErrorOf("state:\n  retention: 90m\n"),
            "t.yaml:2:14: state.retention: 1h30m is not a whole number of 1h");
}

// Selectors the engine does not support would match nothing: rejected at
// the list element (block and flow lists), one case per construct class.
TEST(ConfigErrorTest, UnsupportedSelectorsAreRejectedAtTheElement) {
  EXPECT_EQ(ErrorOf("feeds:\n"
                    "  - name: a\n"
                    "    url: http://a.example/feed\n"
                    "    remove_selectors:\n"
                    "      - .ad\n"
                    "      - \"div.share:hover\"\n"),
            "t.yaml:6:9: feeds[0].remove_selectors[1]: selector "
            "\"div.share:hover\": pseudo-class ':hover' is not supported "
            "(supported: tag, .class, #id, [attr], [attr=value], descendant "
            "and '>' combinators) (at character 10)");
  EXPECT_EQ(ErrorOf("feeds:\n"
                    "  - name: a\n"
                    "    url: http://a.example/feed\n"
                    "    keep_selectors: [article, \"h1 + p\"]\n"),
            "t.yaml:4:31: feeds[0].keep_selectors[1]: selector \"h1 + p\": "
            "sibling combinator '+' is not supported (only descendant and "
            "'>') (at character 4)");
  const std::pair<const char*, const char*> kClasses[] = {
      {"p::first-line", "pseudo-element"},
      {"a[href^=\\\"http\\\"]", "attribute operator '^='"},
      {"a[href=x i]", "attribute selector flags"},
      {"svg|rect", "namespace prefixes"},
      {"#a\\\\:b", "CSS escapes"},
      {"div[data-x", "unclosed '['"},
      {"a,,b", "empty selector"},
      {"div >", "'>' without a selector after it"},
      {"p ~ span", "sibling combinator '~'"},
  };
  for (const auto& [selector, what] : kClasses) {
    const std::string e = ErrorOf(std::string("feeds:\n"
                                              "  - name: a\n"
                                              "    url: http://a.example/\n"
                                              "    remove_selectors:\n"
                                              "      - \"") +
                                  selector + "\"\n");
    EXPECT_EQ(e.rfind("t.yaml:5:9: feeds[0].remove_selectors[0]: selector ", 0),
              0u)
        << selector << " -> " << e;
    EXPECT_NE(e.find(what), std::string::npos) << selector << " -> " << e;
  }
}

TEST(ConfigErrorTest, UnknownKeyWithSuggestion) {
  EXPECT_EQ(ErrorOf("feeds:\n"
                    "  - name: a\n"
                    "    url: http://a.example/feed\n"
                    "    intervall: 15m\n"),
            "t.yaml:4:5: unknown key \"intervall\" in feeds[0] (did you mean "
            "\"interval\"?)");
  EXPECT_EQ(ErrorOf("kafka:\n  brokers: x\n  topik: y\n"),
            "t.yaml:3:3: unknown key \"topik\" in kafka (did you mean "
            "\"topic\"?)");
}

TEST(ConfigErrorTest, UnknownKeyWithoutSuggestion) {
  EXPECT_EQ(ErrorOf("sinks: [kafka]\nzzz_unrelated: 1\n"),
            "t.yaml:2:1: unknown key \"zzz_unrelated\" at top level");
}

TEST(ConfigErrorTest, DuplicateKey) {
  EXPECT_EQ(ErrorOf("http:\n  proxy: a\n  proxy: b\n"),
            "t.yaml:3:3: duplicate key \"proxy\" in http");
}

TEST(ConfigErrorTest, MissingRequired) {
  EXPECT_EQ(ErrorOf("feeds:\n"
                    "  - name: a\n"
                    "    interval: 5m\n"),
            "t.yaml:2:5: feeds[0]: missing required key \"url\"");
  EXPECT_EQ(ErrorOf("feeds:\n"
                    "  - name: a\n"
                    "    url: http://a.example/\n"
                    "  - url: http://b.example/\n"),
            "t.yaml:4:5: feeds[1]: missing required key \"name\"");
}

TEST(ConfigErrorTest, DuplicateFeedName) {
  EXPECT_EQ(ErrorOf("feeds:\n"
                    "  - name: a\n"
                    "    url: http://a.example/\n"
                    "  - name: a\n"
                    "    url: http://b.example/\n"),
            "t.yaml:4:11: feeds[1].name: duplicate feed name \"a\" (first "
            "defined at t.yaml:2:11)");
}

TEST(ConfigErrorTest, WrongTypes) {
  EXPECT_EQ(ErrorOf("http:\n  proxy: [a, b]\n"),
            "t.yaml:2:10: http.proxy: expected a string, got a list");
  EXPECT_EQ(ErrorOf("kafka: localhost:9092\n"),
            "t.yaml:1:8: kafka: expected a map, got a scalar");
  EXPECT_EQ(ErrorOf("feeds: {name: a}\n"),
            "t.yaml:1:8: feeds: expected a list of feeds");
  EXPECT_EQ(ErrorOf("feeds:\n  - http://a.example/\n"),
            "t.yaml:2:5: feeds[0]: expected a map with name and url");
  EXPECT_EQ(ErrorOf("http:\n  max_redirects: five\n"),
            "t.yaml:2:18: http.max_redirects: invalid integer \"five\"");
  EXPECT_EQ(ErrorOf("http:\n  max_redirects: 51\n"),
            "t.yaml:2:18: http.max_redirects: 51 is out of range 0..50");
  EXPECT_EQ(ErrorOf("- a\n- b\n"),
            "t.yaml:1:1: the document must be a map of settings");
}

TEST(ConfigErrorTest, BadEnumValues) {
  EXPECT_EQ(ErrorOf("feeds:\n  - name: a\n    url: http://a.example/\n"
                    "    full_article: sometimes\n"),
            "t.yaml:4:19: feeds[0].full_article: invalid value \"sometimes\" "
            "(expected auto, always or never)");
  EXPECT_EQ(ErrorOf("sinks: [kafka, stdout]\n"),
            "t.yaml:1:16: sinks[1]: invalid value \"stdout\" (expected kafka "
            "or jsonl)");
  EXPECT_EQ(ErrorOf("sinks: [kafka, kafka]\n"),
            "t.yaml:1:16: sinks[1]: sink \"kafka\" listed twice");
  EXPECT_EQ(ErrorOf("sinks: []\n"),
            "t.yaml:1:8: sinks: at least one sink is needed (kafka, jsonl)");
}

TEST(ConfigErrorTest, BadUrls) {
  for (const char* url :
       {"ftp://a.example/", "a.example/feed", "http://", "http:///path",
        "http://a.example:99999/", "http://a example/", "http://a.example:/",
        // What the URL model (a browser) refuses: a bad IPv6 or IPv4
        // literal, forbidden host characters.
        "http://[::1.2.3.4x]/", "http://256.256.256.256/",
        "http://a%25b.example/", "http://a<b.example/"}) {
    std::string yaml =
        "feeds:\n  - name: a\n    url: \"" + std::string(url) + "\"\n";
    EXPECT_EQ(ErrorOf(yaml),
              "t.yaml:3:10: feeds[0].url: invalid URL \"" + std::string(url) +
                  "\" (need an absolute http:// or https:// URL)");
  }
  for (const char* url : {"HTTPS://A.example", "http://[::1]:8080/x",
                          "http://user:pw@host/x", "http://h?x#y"}) {
    std::string yaml =
        "feeds:\n  - name: a\n    url: \"" + std::string(url) + "\"\n";
    EXPECT_EQ(ErrorOf(yaml), "OK") << url;
  }
}

TEST(ConfigErrorTest, BadNamesTopicsHeadersLanguage) {
  EXPECT_EQ(ErrorOf("feeds:\n  - name: a b\n    url: http://a/\n"),
            "t.yaml:2:11: feeds[0].name: invalid feed name \"a b\" (use 1-128 "
            "of A-Z a-z 0-9 . _ -)");
  EXPECT_EQ(ErrorOf("kafka:\n  topic: \"news/articles\"\n"),
            "t.yaml:2:10: kafka.topic: invalid Kafka topic \"news/articles\" "
            "(use 1-249 of A-Z a-z 0-9 . _ -)");
  EXPECT_EQ(ErrorOf("defaults:\n  headers:\n    \"Bad Header\": x\n"),
            "t.yaml:3:19: defaults.headers.Bad Header: invalid header name "
            "\"Bad Header\"");
  EXPECT_EQ(ErrorOf("defaults:\n  language: english!\n"),
            "t.yaml:2:13: defaults.language: invalid language tag "
            "\"english!\" (use e.g. en, de, pt-BR)");
  EXPECT_EQ(ErrorOf("metrics:\n  listen: 9464\n"),
            "t.yaml:2:11: metrics.listen: invalid listen address \"9464\" (use "
            "host:port, e.g. 127.0.0.1:9464 or [::1]:9464)");
}

TEST(ConfigErrorTest, JsonlSinkNeedsPath) {
  EXPECT_EQ(ErrorOf("kafka: {}\nsinks: [jsonl]\n"),
            "t.yaml:2:8: sinks: \"jsonl\" needs jsonl_path (a file, or \"-\" "
            "for stdout)");
  EXPECT_EQ(ErrorOf("sinks: [jsonl]\njsonl_path: /tmp/out.jsonl\n"), "OK");
}

// Issue 11, item 8: the body budget holds at least one whole body.
TEST(ConfigErrorTest, BodyBudgetHoldsOneBody) {
  EXPECT_EQ(ErrorOf("http:\n  max_body_bytes: 16MiB\n"
                    "  max_body_bytes_in_flight: 8MiB\n"),
            "t.yaml:3:29: http.max_body_bytes_in_flight: must be >= "
            "max_body_bytes (16777216 bytes)");
  // Only max_body_bytes set, past the default budget: reported there.
  EXPECT_EQ(ErrorOf("http:\n  max_body_bytes: 512MiB\n"),
            "t.yaml:2:19: http.max_body_bytes_in_flight: must be >= "
            "max_body_bytes (536870912 bytes)");
  EXPECT_EQ(ErrorOf("http:\n  max_body_bytes: 512MiB\n"
                    "  max_body_bytes_in_flight: 1GiB\n"),
            "OK");
  EXPECT_NE(ErrorOf("pipeline:\n  parse_timeout: 0s\n"), "OK");
  EXPECT_EQ(ErrorOf("pipeline:\n  parse_timeout: 250ms\n"), "OK");
}

// pipeline.max_polls_in_progress: default, a value, range errors at the
// value's position.
TEST(ConfigErrorTest, MaxPollsInProgress) {
  auto defaults = LoadConfigString("{}\n", "t.yaml", BuiltinSinks());
  ASSERT_TRUE(defaults) << defaults.error().ToString();
  EXPECT_EQ(defaults->pipeline.max_polls_in_progress, 256u);
  auto set = LoadConfigString("pipeline:\n  max_polls_in_progress: 12\n",
                              "t.yaml", BuiltinSinks());
  ASSERT_TRUE(set) << set.error().ToString();
  EXPECT_EQ(set->pipeline.max_polls_in_progress, 12u);
  EXPECT_EQ(ErrorOf("pipeline:\n  max_polls_in_progress: 0\n"),
            "t.yaml:2:26: pipeline.max_polls_in_progress: 0 is out of range "
            "1..100000");
  EXPECT_EQ(ErrorOf("pipeline:\n  workers: 1\n  max_polls_in_progress: "
                    "100001\n"),
            "t.yaml:3:26: pipeline.max_polls_in_progress: 100001 is out of "
            "range 1..100000");
  EXPECT_EQ(ErrorOf("pipeline:\n  max_polls_in_progress: 100000\n"), "OK");
}

TEST(ConfigErrorTest, SchedulerBounds) {
  EXPECT_EQ(
      ErrorOf("scheduler:\n  min_interval: 1h\n  max_interval: 30m\n"),
      "t.yaml:3:17: scheduler.max_interval: must be >= min_interval (1h)");
}

TEST(ConfigErrorTest, YamlSyntaxErrorHasPosition) {
  // An unterminated flow sequence: yaml-cpp reports it where the document
  // ends (line 3, column 1 after the final newline).
  std::string err = ErrorOf("kafka:\n  brokers: [a, b\n");
  EXPECT_EQ(err.rfind("t.yaml:3:1: YAML syntax error: ", 0), 0u) << err;
  // A tab used for indentation / bad mapping on line 2.
  err = ErrorOf("kafka:\n  brokers: a\n topic: b\n");
  EXPECT_EQ(err.rfind("t.yaml:3:", 0), 0u) << err;
  EXPECT_NE(err.find("YAML syntax error"), std::string::npos) << err;
}

TEST(ConfigEnvTest, SubstitutesVariables) {
  ::setenv("NF_CFG_TEST_BROKERS", "b1:9092,b2:9092", 1);
  ::setenv("NF_CFG_TEST_TOKEN", "s3cret", 1);
  ::setenv("NF_CFG_TEST_INTERVAL", "2m", 1);
  ::unsetenv("NF_CFG_TEST_UNSET");
  auto cfg = LoadConfigString(
      "kafka:\n"
      "  brokers: ${NF_CFG_TEST_BROKERS}\n"
      "  topic: ${NF_CFG_TEST_UNSET:-fallback.topic}\n"
      "  librdkafka: {sasl.password: \"${NF_CFG_TEST_TOKEN}\"}\n"
      "feeds:\n"
      "  - name: a\n"
      "    url: https://a.example/$${raw}\n"
      "    interval: ${NF_CFG_TEST_INTERVAL}\n"
      "    headers: {Authorization: \"Bearer ${NF_CFG_TEST_TOKEN}\"}\n",
      "t.yaml", BuiltinSinks());
  ASSERT_TRUE(cfg) << cfg.error().ToString();
  EXPECT_EQ(Kafka(*cfg).brokers, "b1:9092,b2:9092");
  EXPECT_EQ(Kafka(*cfg).topic, "fallback.topic");
  EXPECT_EQ(Kafka(*cfg).librdkafka.at("sasl.password"), "s3cret");
  EXPECT_EQ(cfg->feeds[0].url, "https://a.example/${raw}");
  EXPECT_EQ(cfg->feeds[0].interval, 120s);
  EXPECT_EQ(cfg->feeds[0].headers[0].second, "Bearer s3cret");
}

TEST(ConfigEnvTest, UnsetVariableIsAnErrorAtItsValue) {
  ::unsetenv("NF_CFG_TEST_UNSET");
  EXPECT_EQ(ErrorOf("kafka:\n  librdkafka:\n    sasl.password: "
                    "\"${NF_CFG_TEST_UNSET}\"\n"),
            "t.yaml:3:20: kafka.librdkafka.sasl.password: environment "
            "variable \"NF_CFG_TEST_UNSET\" is not set (use "
            "${NF_CFG_TEST_UNSET:-default} for a default)");
}

TEST(ConfigFileTest, ExampleFileLoads) {
  ::unsetenv("EXAMPLE_TOKEN");
  const std::string path =
      std::string(NEWSFLOW_SOURCE_DIR) + "/config/newsflow.example.yaml";
  auto cfg = LoadConfigFile(path, BuiltinSinks());
  ASSERT_TRUE(cfg) << cfg.error().ToString();
  EXPECT_EQ(cfg->source_path, path);
  // The example documents the defaults, so it must agree with the structs.
  DaemonConfig d;
  EXPECT_EQ(Kafka(*cfg).brokers, KafkaSinkOptions{}.brokers);
  EXPECT_EQ(Kafka(*cfg).topic, KafkaSinkOptions{}.topic);
  EXPECT_EQ(cfg->state.path, d.state.path);
  EXPECT_EQ(cfg->state.retention, d.state.retention);
  EXPECT_EQ(cfg->http.user_agent, d.http.user_agent);
  EXPECT_EQ(cfg->http.connect_timeout, d.http.connect_timeout);
  EXPECT_EQ(cfg->http.total_timeout, d.http.total_timeout);
  EXPECT_EQ(cfg->http.max_body_bytes, d.http.max_body_bytes);
  EXPECT_EQ(cfg->http.max_redirects, d.http.max_redirects);
  EXPECT_EQ(cfg->http.max_host_connections, d.http.max_host_connections);
  EXPECT_EQ(cfg->http.max_concurrent, d.http.max_concurrent);
  EXPECT_EQ(cfg->metrics.listen, d.metrics.listen);
  EXPECT_EQ(cfg->scheduler.min_interval, d.scheduler.min_interval);
  EXPECT_EQ(cfg->scheduler.max_interval, d.scheduler.max_interval);
  EXPECT_EQ(cfg->pipeline.max_in_flight, d.pipeline.max_in_flight);
  EXPECT_EQ(cfg->pipeline.drain_timeout, d.pipeline.drain_timeout);
  EXPECT_EQ(cfg->pipeline.first_poll_backlog, d.pipeline.first_poll_backlog);
  EXPECT_EQ(cfg->log.level, d.log.level);
  EXPECT_EQ(cfg->log.format, d.log.format);
  ASSERT_EQ(cfg->feeds.size(), 3u);
  EXPECT_EQ(cfg->feeds[0].interval, FeedConfig().interval);
  EXPECT_EQ(cfg->feeds[1].interval, 5400s);
  EXPECT_EQ(cfg->feeds[1].headers[0].second, "Bearer unset");
  EXPECT_EQ(cfg->feeds[1].timezone, "Europe/London");
  ASSERT_EQ(cfg->feeds[2].headers.size(), 1u);
  EXPECT_EQ(cfg->feeds[2].headers[0].second,
            "Basic bmV3c2Zsb3c6dW5zZXQ=");  // newsflow:unset
}

TEST(ConfigFileTest, MissingFileNamesThePath) {
  auto cfg = LoadConfigFile("/nonexistent/newsflow.yaml", BuiltinSinks());
  ASSERT_FALSE(cfg);
  EXPECT_EQ(cfg.error().code(), Errc::kConfig);
  EXPECT_EQ(cfg.error().ToString(),
            "/nonexistent/newsflow.yaml: cannot read config file: No such "
            "file or directory");
}

TEST(ConfigFileTest, ErrorsUseTheFilePath) {
  auto dir = std::filesystem::temp_directory_path() /
             ("nf_config_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto path = (dir / "bad.yaml").string();
  std::ofstream(path) << "log:\n  level: loud\n";
  auto cfg = LoadConfigFile(path, BuiltinSinks());
  std::filesystem::remove_all(dir);
  ASSERT_FALSE(cfg);
  EXPECT_EQ(cfg.error().ToString(),
            path +
                ":2:10: log.level: invalid value \"loud\" (expected trace, "
                "debug, info, warn, error, critical or off)");
}

}  // namespace
}  // namespace newsflow
