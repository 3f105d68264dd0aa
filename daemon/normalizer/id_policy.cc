#include "daemon/normalizer/id_policy.h"

#include <unordered_map>

#include "daemon/normalizer/normalizer.h"

namespace newsflow {

std::string_view IdPolicyName(IdPolicy policy) {
  return policy == IdPolicy::kUrl ? "url" : "guid";
}

IdPolicyDecision DecideIdPolicy(const IdPolicyState& previous,
                                const std::vector<ItemKey>& items) {
  IdPolicyDecision d;
  d.policy = previous.policy;
  d.reason = previous.reason;
  if (previous.policy == IdPolicy::kUrl) return d;
  auto switch_to_url = [&d](const char* reason) {
    d.policy = IdPolicy::kUrl;
    d.reason = reason;
    d.changed = true;
    return d;
  };

  // Repeated: one GUID, several stories. (The same item listed twice has
  // the same URL and is harmless.)
  std::unordered_map<std::string, const std::string*> url_of_guid;
  size_t with_guid = 0;
  for (const ItemKey& item : items) {
    if (item.guid.empty()) continue;
    ++with_guid;
    auto [it, inserted] = url_of_guid.emplace(item.guid, &item.canonical_url);
    if (!inserted && *it->second != item.canonical_url) {
      return switch_to_url("guids_repeated");
    }
  }

  std::unordered_map<std::string, const std::string*> previous_guid;
  for (const ItemKey& item : previous.last_items) {
    if (!item.guid.empty())
      previous_guid.emplace(item.canonical_url, &item.guid);
  }
  // Missing: the feed used to have GUIDs and dropped them all.
  if (!items.empty() && with_guid == 0 && !previous_guid.empty()) {
    return switch_to_url("guids_missing");
  }
  // Changed: same stories (URLs), different GUIDs.
  size_t matched = 0, changed = 0;
  for (const ItemKey& item : items) {
    if (item.guid.empty() || item.canonical_url.empty()) continue;
    auto it = previous_guid.find(item.canonical_url);
    if (it == previous_guid.end()) continue;
    ++matched;
    if (*it->second != item.guid) ++changed;
  }
  if (matched >= 2 && changed * 2 > matched) {
    return switch_to_url("guids_changed");
  }
  return d;
}

std::string PolicyArticleId(std::string_view feed_id, IdPolicy policy,
                            const ItemKey& item) {
  if (policy == IdPolicy::kUrl && !item.canonical_url.empty()) {
    return ArticleId(feed_id, "", item.canonical_url);
  }
  return ArticleId(feed_id, item.guid, item.canonical_url);
}

std::string EncodeItemKeys(const std::vector<ItemKey>& items) {
  std::string out;
  for (const ItemKey& item : items) {
    for (char c : item.canonical_url) {
      if (c != '\t' && c != '\n') out.push_back(c);
    }
    out.push_back('\t');
    for (char c : item.guid) {
      if (c != '\t' && c != '\n') out.push_back(c);
    }
    out.push_back('\n');
  }
  return out;
}

std::vector<ItemKey> DecodeItemKeys(std::string_view text) {
  std::vector<ItemKey> items;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text =
        nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    const size_t tab = line.find('\t');
    if (tab == std::string_view::npos) continue;
    items.push_back(
        {std::string(line.substr(tab + 1)), std::string(line.substr(0, tab))});
  }
  return items;
}

}  // namespace newsflow
