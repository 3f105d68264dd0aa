#include "connectors/sinks/jsonl/jsonl_sink.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

namespace newsflow {
namespace {

TEST(JsonlSinkTest, AppendsOneParseableLinePerArticleAndReportsAfterwards) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("nf_jsonl_" + std::to_string(::getpid()) + ".jsonl");
  std::filesystem::remove(path);
  boost::asio::io_context io;
  auto sink = JsonlSink::Create(io, {path.string()});
  ASSERT_TRUE(sink) << sink.error().ToString();
  int delivered = 0;
  for (int i = 0; i < 3; ++i) {
    Article a;
    a.id = "id-" + std::to_string(i);
    a.content_text = "line\nbreak";
    (*sink)->Publish(a, SinkDestination{}, [&](DeliveryReport r) {
      EXPECT_EQ(r.outcome, DeliveryOutcome::kDelivered) << r.error;
      ++delivered;
    });
  }
  EXPECT_EQ(delivered, 0) << "callbacks must not run inside Publish()";
  io.run();
  EXPECT_EQ(delivered, 3);
  ASSERT_TRUE((*sink)->Close(std::chrono::milliseconds(100)));
  std::ifstream in(path);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line);
    EXPECT_EQ(j["id"], "id-" + std::to_string(n));
    EXPECT_EQ(j["content_text"], "line\nbreak");
    ++n;
  }
  EXPECT_EQ(n, 3);
  std::filesystem::remove(path);
}

// Issue 16: the Publisher's call writes the bytes it hands over, the same
// line Publish() writes.
TEST(JsonlSinkTest, PublishSerializedWritesTheSameLineAsPublish) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("nf_jsonl_ser_" + std::to_string(::getpid()) + ".jsonl");
  std::filesystem::remove(path);
  boost::asio::io_context io;
  auto sink = JsonlSink::Create(io, {path.string()});
  ASSERT_TRUE(sink) << sink.error().ToString();
  Article a;
  a.id = "id-s";
  a.title = "T\u00e9l\u00e9 \"x\"";
  a.content_text = "line\nbreak";
  int delivered = 0;
  auto count = [&](DeliveryReport r) {
    EXPECT_EQ(r.outcome, DeliveryOutcome::kDelivered) << r.error;
    ++delivered;
  };
  (*sink)->Publish(a, SinkDestination{}, count);
  (*sink)->PublishSerialized(
      a, std::make_shared<const std::string>(ArticleToJson(a)),
      SinkDestination{}, count);
  EXPECT_EQ(delivered, 0);
  io.run();
  EXPECT_EQ(delivered, 2);
  ASSERT_TRUE((*sink)->Close(std::chrono::milliseconds(100)));
  std::ifstream in(path);
  std::string first, second, rest;
  ASSERT_TRUE(std::getline(in, first));
  ASSERT_TRUE(std::getline(in, second));
  EXPECT_FALSE(std::getline(in, rest));
  EXPECT_EQ(first, second);
  EXPECT_EQ(nlohmann::json::parse(second)["id"], "id-s");
  std::filesystem::remove(path);
}

TEST(JsonlSinkTest, UnwritablePathIsAnIoErrorNamingThePath) {
  boost::asio::io_context io;
  auto sink = JsonlSink::Create(io, {"/nonexistent-dir/x.jsonl"});
  ASSERT_FALSE(sink);
  EXPECT_EQ(sink.error().code(), Errc::kIo);
  EXPECT_NE(sink.error().ToString().find("/nonexistent-dir/x.jsonl"),
            std::string::npos);
}

}  // namespace
}  // namespace newsflow
