#pragma once

// Per-feed article id policy. Ids come from GUIDs while a feed's GUIDs are
// trustworthy; a feed whose GUIDs go missing, are shared by different
// stories, or change between polls for the same URLs switches (for good) to
// ids from canonical URLs, so its stories are neither duplicated on every
// poll nor merged. Pure functions; any thread.

#include <string>
#include <string_view>
#include <vector>

namespace newsflow {

enum class IdPolicy { kGuid, kUrl };

// "guid" | "url".
std::string_view IdPolicyName(IdPolicy policy);

// What identifies one item of a feed document.
struct ItemKey {
  std::string guid;           // "" when the item has none
  std::string canonical_url;  // CanonicalizeUrl(link)
};

// What is remembered about a feed between polls (see StateStore).
struct IdPolicyState {
  IdPolicy policy = IdPolicy::kGuid;
  std::string reason;               // why kUrl was chosen; "" for kGuid
  std::vector<ItemKey> last_items;  // the previous document's items
};

struct IdPolicyDecision {
  IdPolicy policy = IdPolicy::kGuid;
  std::string reason;    // "guids_repeated" | "guids_missing" | "guids_changed"
  bool changed = false;  // policy differs from the previous state
};

// Decides the policy for the document `items`, given the previous state.
// kUrl is sticky. Switches to kUrl when
//  - one GUID is used by items with different canonical URLs (repeated),
//  - the previous document had GUIDs and this one has none (missing),
//  - of the (>= 2) URLs present in both documents with GUIDs, more than
//    half changed GUID (changed: regenerated on every poll).
IdPolicyDecision DecideIdPolicy(const IdPolicyState& previous,
                                const std::vector<ItemKey>& items);

// The article id of `item` under `policy` (ArticleId of the normalizer).
std::string PolicyArticleId(std::string_view feed_id, IdPolicy policy,
                            const ItemKey& item);

// Serialization of last_items for the state store (one "url\tguid" line per
// item; tabs and newlines cannot occur in canonical URLs, are dropped from
// GUIDs).
std::string EncodeItemKeys(const std::vector<ItemKey>& items);
std::vector<ItemKey> DecodeItemKeys(std::string_view text);

}  // namespace newsflow
