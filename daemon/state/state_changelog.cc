#include "daemon/state/state_changelog.h"

#include <cassert>
#include <nlohmann/json.hpp>

namespace newsflow {
namespace {

using nlohmann::json;

int64_t Millis(TimePoint t) { return t.time_since_epoch().count(); }
TimePoint FromMillis(int64_t ms) {
  return TimePoint(std::chrono::milliseconds(ms));
}

void PutTime(json& j, const char* key, const std::optional<TimePoint>& t) {
  if (t) j[key] = Millis(*t);
}

std::optional<TimePoint> GetTime(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_integer()) return std::nullopt;
  return FromMillis(it->get<int64_t>());
}

template <class T>
T Get(const json& j, const char* key, T fallback) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  return it->get<T>();
}

}  // namespace

StateRecord FeedStateRecord(const FeedState& s) {
  json j;
  j["url"] = s.url;
  j["etag"] = s.etag;
  j["last_modified"] = s.last_modified;
  j["body_hash"] = s.body_hash;
  PutTime(j, "last_success", s.last_success);
  PutTime(j, "last_attempt", s.last_attempt);
  j["last_error"] = s.last_error;
  j["consecutive_failures"] = s.consecutive_failures;
  j["moved_to"] = s.moved_to;
  j["moved_hits"] = s.moved_hits;
  j["moved_from"] = s.moved_from;
  j["parse_crashes"] = s.parse_crashes;
  return {"f/" + s.feed_id, j.dump()};
}

StateRecord IdPolicyRecord(const FeedIdPolicyRecord& r) {
  json j;
  j["policy"] = r.policy;
  j["reason"] = r.reason;
  PutTime(j, "changed_at", r.changed_at);
  j["last_items"] = r.last_items;
  return {"p/" + r.feed_id, j.dump()};
}

StateRecord ArticleStateRecord(const ArticleRecord& r,
                               const std::string& dead_letter_reason) {
  assert(!r.feed_id.empty());
  json j;
  j["item_hash"] = r.item_hash;
  j["content_hash"] = r.content_hash;
  j["content_hash_version"] = r.content_hash_version;
  j["first_published"] = Millis(r.first_published);
  j["last_published"] = Millis(r.last_published);
  if (!dead_letter_reason.empty()) j["dead_letter_reason"] = dead_letter_reason;
  return {"a/" + r.feed_id + "/" + r.id, j.dump()};
}

std::optional<StateRecord> RecordOfChange(const StateChange& change) {
  if (change.feed) return FeedStateRecord(*change.feed);
  if (change.id_policy) return IdPolicyRecord(*change.id_policy);
  if (change.article && !change.article->feed_id.empty()) {
    return ArticleStateRecord(*change.article, change.dead_letter_reason);
  }
  return std::nullopt;
}

std::string FeedOfKey(std::string_view key) {
  if (key.size() < 3 || key[1] != '/') return "";
  if (key[0] != 'f' && key[0] != 'p' && key[0] != 'a') return "";
  std::string_view rest = key.substr(2);
  if (key[0] == 'a') {
    const size_t slash = rest.find('/');
    if (slash == std::string_view::npos || slash == 0 ||
        slash + 1 == rest.size()) {
      return "";
    }
    rest = rest.substr(0, slash);
  }
  return std::string(rest);
}

Result<ChangelogEntry> DecodeStateRecord(const StateRecord& record) {
  ChangelogEntry e;
  e.feed = FeedOfKey(record.key);
  if (e.feed.empty()) {
    return Error(Errc::kParse, "changelog: unknown key " + record.key);
  }
  const json j = json::parse(record.value, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return Error(Errc::kParse,
                 "changelog: value of " + record.key + " is not a JSON object");
  }
  try {
    switch (record.key[0]) {
      case 'f': {
        FeedState s;
        s.feed_id = e.feed;
        s.url = Get<std::string>(j, "url", "");
        s.etag = Get<std::string>(j, "etag", "");
        s.last_modified = Get<std::string>(j, "last_modified", "");
        s.body_hash = Get<std::string>(j, "body_hash", "");
        s.last_success = GetTime(j, "last_success");
        s.last_attempt = GetTime(j, "last_attempt");
        s.last_error = Get<std::string>(j, "last_error", "");
        s.consecutive_failures = Get<int>(j, "consecutive_failures", 0);
        s.moved_to = Get<std::string>(j, "moved_to", "");
        s.moved_hits = Get<int>(j, "moved_hits", 0);
        s.moved_from = Get<std::string>(j, "moved_from", "");
        s.parse_crashes = Get<int>(j, "parse_crashes", 0);
        e.feed_state = std::move(s);
        break;
      }
      case 'p': {
        FeedIdPolicyRecord r;
        r.feed_id = e.feed;
        r.policy = Get<std::string>(j, "policy", "guid");
        r.reason = Get<std::string>(j, "reason", "");
        r.changed_at = GetTime(j, "changed_at");
        r.last_items = Get<std::string>(j, "last_items", "");
        e.id_policy = std::move(r);
        break;
      }
      default: {
        ChangelogArticle a;
        a.record.feed_id = e.feed;
        a.record.id = record.key.substr(2 + e.feed.size() + 1);
        a.record.item_hash = Get<std::string>(j, "item_hash", "");
        a.record.content_hash = Get<std::string>(j, "content_hash", "");
        a.record.content_hash_version =
            Get<int>(j, "content_hash_version", kContentHashVersion);
        a.record.first_published =
            FromMillis(Get<int64_t>(j, "first_published", 0));
        a.record.last_published =
            FromMillis(Get<int64_t>(j, "last_published", 0));
        a.dead_letter_reason = Get<std::string>(j, "dead_letter_reason", "");
        e.article = std::move(a);
        break;
      }
    }
  } catch (const json::exception& ex) {
    return Error(Errc::kParse,
                 "changelog: value of " + record.key + ": " + ex.what());
  }
  return e;
}

Result<size_t> ApplyStateRecords(StateStore& store,
                                 const std::vector<StateRecord>& records,
                                 size_t* bad) {
  size_t applied = 0;
  for (const StateRecord& record : records) {
    if (record.value.empty()) continue;
    auto entry = DecodeStateRecord(record);
    if (!entry) {
      if (bad) ++*bad;
      continue;
    }
    Result<void> r;
    if (entry->feed_state) {
      r = store.SaveFeed(*entry->feed_state);
    } else if (entry->id_policy) {
      r = store.SaveIdPolicy(*entry->id_policy);
    } else {
      r = store.PutArticle(entry->article->record);
      if (r && !entry->article->dead_letter_reason.empty()) {
        r = store.PutDeadLetter(entry->article->record,
                                entry->article->dead_letter_reason);
      }
    }
    if (!r) return r.error();
    ++applied;
  }
  return applied;
}

}  // namespace newsflow
