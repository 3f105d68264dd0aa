// FanoutSink (unit, fake sinks): each sink gets its own part of the route,
// the article's serialization is made once and shared by every sink
// (issue 16), and the combined report is the worst outcome, once.

#include "daemon/runtime/fanout_sink.h"

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <vector>

namespace newsflow {
namespace {

class RecordingSink final : public Sink {
 public:
  std::string_view Name() const override { return "sink.recording"; }
  void Publish(const Article& article, const SinkDestination& destination,
               DeliveryCallback done) override {
    PublishSerialized(
        article, std::make_shared<const std::string>(ArticleToJson(article)),
        destination, std::move(done));
  }
  void PublishSerialized(const Article& article, SerializedArticle json,
                         const SinkDestination& destination,
                         DeliveryCallback done) override {
    ids.push_back(article.id);
    destinations.push_back(destination.name);
    handed.push_back(std::move(json));
    dones.push_back(std::move(done));
  }
  Result<void> Close(std::chrono::milliseconds) override { return {}; }

  std::vector<std::string> ids, destinations;
  std::vector<SerializedArticle> handed;
  std::vector<DeliveryCallback> dones;
};

struct Fanout {
  Fanout() {
    auto a = std::make_unique<RecordingSink>();
    auto b = std::make_unique<RecordingSink>();
    first = a.get();
    second = b.get();
    std::vector<std::unique_ptr<Sink>> sinks;
    sinks.push_back(std::move(a));
    sinks.push_back(std::move(b));
    sink = std::make_unique<FanoutSink>(std::move(sinks));
  }
  RecordingSink* first = nullptr;
  RecordingSink* second = nullptr;
  std::unique_ptr<FanoutSink> sink;
};

Article MakeArticle() {
  Article a;
  a.id = "fan-1";
  a.title = "Fan \"out\" \u00e9";
  a.content_text = "text";
  a.content_hash = "h";
  return a;
}

const SinkDestination kRoute{"", {{"to-a", {}}, {"to-b", {}}}};

TEST(FanoutSinkTest, EverySinkGetsTheSameSerializationAndItsOwnPart) {
  Fanout f;
  const Article a = MakeArticle();
  auto json = std::make_shared<const std::string>(ArticleToJson(a));
  std::optional<DeliveryReport> report;
  int reports = 0;
  f.sink->PublishSerialized(a, json, kRoute, [&](DeliveryReport r) {
    ++reports;
    report = std::move(r);
  });
  ASSERT_EQ(f.first->handed.size(), 1u);
  ASSERT_EQ(f.second->handed.size(), 1u);
  EXPECT_EQ(f.first->handed[0], json) << "shared, not copied";
  EXPECT_EQ(f.second->handed[0], json);
  EXPECT_EQ(f.first->destinations[0], "to-a");
  EXPECT_EQ(f.second->destinations[0], "to-b");

  f.first->dones[0]({DeliveryOutcome::kDelivered, ""});
  EXPECT_EQ(reports, 0) << "only when every sink reported";
  f.second->dones[0]({DeliveryOutcome::kRetry, "b is down"});
  EXPECT_EQ(reports, 1);
  ASSERT_TRUE(report);
  EXPECT_EQ(report->outcome, DeliveryOutcome::kRetry);
  EXPECT_EQ(report->error, "b is down");
}

TEST(FanoutSinkTest, PublishSerializesOnceForEverySink) {
  Fanout f;
  const Article a = MakeArticle();
  int reports = 0;
  f.sink->Publish(a, kRoute, [&](DeliveryReport r) {
    ++reports;
    EXPECT_EQ(r.outcome, DeliveryOutcome::kDelivered);
  });
  ASSERT_EQ(f.first->handed.size(), 1u);
  ASSERT_EQ(f.second->handed.size(), 1u);
  ASSERT_NE(f.first->handed[0], nullptr);
  EXPECT_EQ(f.first->handed[0], f.second->handed[0]);
  EXPECT_EQ(*f.first->handed[0], ArticleToJson(a));
  f.first->dones[0]({DeliveryOutcome::kDelivered, ""});
  f.second->dones[0]({DeliveryOutcome::kDelivered, ""});
  EXPECT_EQ(reports, 1);
}

}  // namespace
}  // namespace newsflow
