// Changelog records (daemon/state/state_changelog.h): every field survives
// encode → decode; ApplyStateRecords writes them exactly as recorded; the
// store's observer sees each kind of state write once.

#include "daemon/state/state_changelog.h"

#include <gtest/gtest.h>

#include <memory>

namespace newsflow {
namespace {

TimePoint At(int64_t ms) { return TimePoint(std::chrono::milliseconds(ms)); }

FeedState FullFeedState() {
  FeedState s;
  s.feed_id = "world.news-1";
  s.url = "http://x.example/feed?a=1";
  s.etag = "\"abc\"";
  s.last_modified = "Tue, 01 Jan 2030 00:00:00 GMT";
  s.body_hash = "bh";
  s.last_success = At(1'700'000'000'123);
  s.last_attempt = At(1'700'000'001'456);
  s.last_error = "http_status: 503";
  s.consecutive_failures = 4;
  s.moved_to = "http://y.example/feed";
  s.moved_hits = 2;
  s.moved_from = "http://x.example/feed?a=1";
  s.parse_in_progress = true;  // local; restored as false
  s.parse_crashes = 1;
  return s;
}

ArticleRecord FullArticle() {
  ArticleRecord r;
  r.id = "urn:x/1?b=2";  // ids may hold '/'
  r.feed_id = "world.news-1";
  r.item_hash = "ih";
  r.content_hash = "ch";
  r.content_hash_version = 2;
  r.first_published = At(1'600'000'000'000);
  r.last_published = At(1'650'000'000'000);
  return r;
}

TEST(StateChangelogTest, FeedStateRoundTrip) {
  const FeedState s = FullFeedState();
  const StateRecord rec = FeedStateRecord(s);
  EXPECT_EQ(rec.key, "f/world.news-1");
  auto e = DecodeStateRecord(rec);
  ASSERT_TRUE(e) << e.error().ToString();
  EXPECT_EQ(e->feed, "world.news-1");
  ASSERT_TRUE(e->feed_state);
  const FeedState& d = *e->feed_state;
  EXPECT_EQ(d.feed_id, s.feed_id);
  EXPECT_EQ(d.url, s.url);
  EXPECT_EQ(d.etag, s.etag);
  EXPECT_EQ(d.last_modified, s.last_modified);
  EXPECT_EQ(d.body_hash, s.body_hash);
  EXPECT_EQ(d.last_success, s.last_success);
  EXPECT_EQ(d.last_attempt, s.last_attempt);
  EXPECT_EQ(d.last_error, s.last_error);
  EXPECT_EQ(d.consecutive_failures, 4);
  EXPECT_EQ(d.moved_to, s.moved_to);
  EXPECT_EQ(d.moved_hits, 2);
  EXPECT_EQ(d.moved_from, s.moved_from);
  EXPECT_FALSE(d.parse_in_progress);
  EXPECT_EQ(d.parse_crashes, 1);
  // Unset times stay unset.
  FeedState empty;
  empty.feed_id = "e";
  auto e2 = DecodeStateRecord(FeedStateRecord(empty));
  ASSERT_TRUE(e2);
  EXPECT_FALSE(e2->feed_state->last_success.has_value());
  EXPECT_FALSE(e2->feed_state->last_attempt.has_value());
}

TEST(StateChangelogTest, IdPolicyRoundTrip) {
  FeedIdPolicyRecord p;
  p.feed_id = "f1";
  p.policy = "url";
  p.reason = "guids repeat";
  p.changed_at = At(1'700'000'000'000);
  p.last_items = "k1\nk2";
  const StateRecord rec = IdPolicyRecord(p);
  EXPECT_EQ(rec.key, "p/f1");
  auto e = DecodeStateRecord(rec);
  ASSERT_TRUE(e && e->id_policy);
  EXPECT_EQ(e->id_policy->feed_id, "f1");
  EXPECT_EQ(e->id_policy->policy, "url");
  EXPECT_EQ(e->id_policy->reason, "guids repeat");
  EXPECT_EQ(e->id_policy->changed_at, p.changed_at);
  EXPECT_EQ(e->id_policy->last_items, "k1\nk2");
}

TEST(StateChangelogTest, ArticleRoundTripWithAndWithoutDeadLetter) {
  const ArticleRecord r = FullArticle();
  for (const std::string reason : {"", "too_large"}) {
    const StateRecord rec = ArticleStateRecord(r, reason);
    EXPECT_EQ(rec.key, "a/world.news-1/urn:x/1?b=2");
    auto e = DecodeStateRecord(rec);
    ASSERT_TRUE(e && e->article);
    EXPECT_EQ(e->feed, "world.news-1");
    const ArticleRecord& d = e->article->record;
    EXPECT_EQ(d.id, r.id);
    EXPECT_EQ(d.feed_id, r.feed_id);
    EXPECT_EQ(d.item_hash, "ih");
    EXPECT_EQ(d.content_hash, "ch");
    EXPECT_EQ(d.content_hash_version, 2);
    EXPECT_EQ(d.first_published, r.first_published);
    EXPECT_EQ(d.last_published, r.last_published);
    EXPECT_EQ(e->article->dead_letter_reason, reason);
  }
}

TEST(StateChangelogTest, BadRecordsAreErrors) {
  EXPECT_FALSE(DecodeStateRecord({"x/f", "{}"}));
  EXPECT_FALSE(DecodeStateRecord({"a/f", "{}"}));  // no article id
  EXPECT_FALSE(DecodeStateRecord({"f/f", "not json"}));
  EXPECT_FALSE(DecodeStateRecord({"f/f", "[1]"}));
  EXPECT_FALSE(DecodeStateRecord({"f/f", "{\"consecutive_failures\":\"x\"}"}));
  EXPECT_EQ(FeedOfKey("a/feed-1/id/with/slash"), "feed-1");
  EXPECT_EQ(FeedOfKey("p/feed-1"), "feed-1");
  EXPECT_EQ(FeedOfKey("q/feed-1"), "");
}

// The changelog is a topic anyone with write access to the broker can
// fill: a hostile value is an error for that record, never a crash.
TEST(StateChangelogTest, HostileValuesAreErrorsNotCrashes) {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  EXPECT_FALSE(DecodeStateRecord({"f/f", deep}));
  const std::string deep_object = [] {
    std::string v;
    for (int i = 0; i < 100000; ++i) v += "{\"a\":";
    v += "1";
    v += std::string(100000, '}');
    return v;
  }();
  // Well-formed and deep: decodes (unknown keys ignored), nothing overflows.
  EXPECT_TRUE(DecodeStateRecord({"f/f", deep_object}));
  // Cut short.
  const StateRecord whole = FeedStateRecord(FullFeedState());
  for (size_t n : {size_t{1}, whole.value.size() / 2, whole.value.size() - 1}) {
    EXPECT_FALSE(DecodeStateRecord({whole.key, whole.value.substr(0, n)})) << n;
  }
  // 16 MiB of string in a field: kept as text, no crash.
  const std::string big = "{\"etag\":\"" + std::string(16 << 20, 'x') + "\"}";
  auto decoded = DecodeStateRecord({"f/f", big});
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->feed_state->etag.size(), size_t{16} << 20);
  // Newlines and backslashes in a key stay data.
  auto odd = DecodeStateRecord({"a/f/id\n\\x", "{\"content_hash\":\"c\"}"});
  ASSERT_TRUE(odd);
  EXPECT_EQ(odd->article->record.id, "id\n\\x");
}

TEST(StateChangelogTest, ApplyWritesExactlyWhatWasRecorded) {
  auto store = StateStore::Open(":memory:");
  ASSERT_TRUE(store);
  // A stale local cache: the changelog must win.
  ArticleRecord stale = FullArticle();
  stale.first_published = At(1);
  stale.content_hash = "old";
  ASSERT_TRUE((*store)->MarkPublished(stale));
  FeedState stale_feed;
  stale_feed.feed_id = "world.news-1";
  stale_feed.etag = "stale";
  ASSERT_TRUE((*store)->SaveFeed(stale_feed));

  int observed = 0;
  (*store)->SetObserver([&](const StateChange&) { ++observed; });
  FeedIdPolicyRecord p;
  p.feed_id = "world.news-1";
  p.policy = "url";
  ArticleRecord dead = FullArticle();
  dead.id = "dead-1";
  const std::vector<StateRecord> records = {
      FeedStateRecord(FullFeedState()),  IdPolicyRecord(p),
      ArticleStateRecord(FullArticle()), ArticleStateRecord(dead, "rejected"),
      StateRecord{"x/bad", "{}"},        StateRecord{"f/deleted", ""}};
  size_t bad = 0;
  auto applied = ApplyStateRecords(**store, records, &bad);
  ASSERT_TRUE(applied) << applied.error().ToString();
  EXPECT_EQ(*applied, 4u);
  EXPECT_EQ(bad, 1u);

  auto feed = (*store)->LoadFeed("world.news-1");
  ASSERT_TRUE(feed);
  EXPECT_EQ(feed->etag, "\"abc\"");
  EXPECT_EQ(feed->consecutive_failures, 4);
  EXPECT_FALSE(feed->parse_in_progress);
  auto policy = (*store)->LoadIdPolicy("world.news-1");
  ASSERT_TRUE(policy);
  EXPECT_EQ(policy->policy, "url");
  auto art = (*store)->FindArticle(FullArticle().id);
  ASSERT_TRUE(art && art->has_value());
  EXPECT_EQ((*art)->content_hash, "ch");
  EXPECT_EQ((*art)->first_published, FullArticle().first_published);
  EXPECT_EQ((*art)->content_hash_version, 2);
  auto reason = (*store)->FindDeadLetter("dead-1");
  ASSERT_TRUE(reason && reason->has_value());
  EXPECT_EQ(**reason, "rejected");
  // SaveFeed/SaveIdPolicy notify (the caller suppresses those while it
  // applies); PutArticle/PutDeadLetter never do.
  EXPECT_EQ(observed, 2);
}

TEST(StateChangelogTest, ObserverSeesEveryKindOfWriteOnce) {
  auto opened = StateStore::Open(":memory:");
  ASSERT_TRUE(opened);
  StateStore& store = **opened;
  std::vector<StateRecord> seen;
  store.SetObserver([&](const StateChange& c) {
    auto r = RecordOfChange(c);
    ASSERT_TRUE(r.has_value());
    seen.push_back(*r);
  });
  ASSERT_TRUE(store.SaveFeed(FullFeedState()));
  FeedIdPolicyRecord p;
  p.feed_id = "world.news-1";
  ASSERT_TRUE(store.SaveIdPolicy(p));
  ArticleRecord a = FullArticle();
  ASSERT_TRUE(store.MarkPublished(a));
  ASSERT_TRUE(store.UpdateItemHash(a.id, "ih2"));
  ASSERT_TRUE(store.UpdateHashes(a.id, "ih3", "ch3", 2));
  ArticleRecord d = FullArticle();
  d.id = "dl";
  ASSERT_TRUE(store.MarkDeadLettered(d, "why"));
  // The outbox: an ack with a record is a delivered article.
  std::vector<OutboxEntry> entries(1);
  entries[0].id = "ob";
  entries[0].feed_id = "world.news-1";
  entries[0].value = "{}";
  ASSERT_TRUE(store.OutboxAppend(entries));
  ArticleRecord ob = FullArticle();
  ob.id = "ob";
  ASSERT_TRUE(store.OutboxAck({OutboxDone{entries[0].seq, ob}}));
  ASSERT_TRUE(store.SetParseInProgress("world.news-1", true));  // not mirrored

  ASSERT_EQ(seen.size(), 7u);
  EXPECT_EQ(seen[0].key, "f/world.news-1");
  EXPECT_EQ(seen[1].key, "p/world.news-1");
  EXPECT_EQ(seen[2].key, "a/world.news-1/" + a.id);
  auto upd = DecodeStateRecord(seen[3]);
  ASSERT_TRUE(upd && upd->article);
  EXPECT_EQ(upd->article->record.item_hash, "ih2");
  upd = DecodeStateRecord(seen[4]);
  ASSERT_TRUE(upd && upd->article);
  EXPECT_EQ(upd->article->record.content_hash, "ch3");
  EXPECT_EQ(seen[5].key, "a/world.news-1/dl");
  upd = DecodeStateRecord(seen[5]);
  ASSERT_TRUE(upd && upd->article);
  EXPECT_EQ(upd->article->dead_letter_reason, "why");
  EXPECT_EQ(seen[6].key, "a/world.news-1/ob");
}

}  // namespace
}  // namespace newsflow
