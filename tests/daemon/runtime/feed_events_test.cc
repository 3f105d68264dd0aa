// FeedEvents (unit, fake sink): the daemon only emits; the event reaches
// the sink's PublishEvent, stamped with the time when unset.

#include "daemon/runtime/feed_events.h"

#include <gtest/gtest.h>

#include <vector>

namespace newsflow {
namespace {

class EventSink : public Sink {
 public:
  std::string_view Name() const override { return "sink.events"; }
  void Publish(const Article&, const SinkDestination&,
               DeliveryCallback) override {}
  void PublishEvent(const FeedEvent& event) override {
    events.push_back(event);
  }
  Result<void> Close(std::chrono::milliseconds) override { return {}; }

  std::vector<FeedEvent> events;
};

TEST(FeedEventsTest, HandsEveryEventToTheSinkStampedWithTheTime) {
  EventSink sink;
  FeedEvents events(sink);
  const TimePoint before = Now();
  events.Emit({"fetch_failed", "f1", "http://x/feed", {}, {{"error", "e"}}});
  const TimePoint given = TimePoint(std::chrono::milliseconds(1760000000000));
  events.Emit({"moved", "f2", "http://y/feed", given, {{"to", "https://y"}}});
  ASSERT_EQ(sink.events.size(), 2u);
  EXPECT_EQ(sink.events[0].type, "fetch_failed");
  EXPECT_EQ(sink.events[0].feed_id, "f1");
  EXPECT_EQ(sink.events[0].details.at("error"), "e");
  EXPECT_GE(sink.events[0].time, before) << "an unset time is stamped";
  EXPECT_EQ(sink.events[1].time, given) << "a given time is kept";
}

}  // namespace
}  // namespace newsflow
