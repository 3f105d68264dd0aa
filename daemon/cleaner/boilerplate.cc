#include "daemon/cleaner/boilerplate.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <string>
#include <vector>

#include "daemon/cleaner/dom.h"

namespace newsflow::cleaner {
namespace {

// Readability's unlikelyCandidates, plus share/newsletter/cookie names.
constexpr std::array<std::string_view, 41> kUnlikely = {
    "-ad-",         "ai2html",    "banner",  "breadcrumb", "combx",  "comment",
    "community",    "cover-wrap", "disqus",  "extra",      "footer", "gdpr",
    "header",       "legends",    "menu",    "related",    "remark", "replies",
    "rss",          "shoutbox",   "sidebar", "skyscraper", "social", "sponsor",
    "supplemental", "ad-break",   "agegate", "pagination", "pager",  "popup",
    "yom-remote",   "share",      "sharing", "newsletter", "cookie", "consent",
    "subscribe",    "signup",     "navbar",  "outbrain",   "taboola"};
constexpr std::array<std::string_view, 7> kMaybe = {
    "and", "article", "body", "column", "content", "main", "shadow"};
// Strong boilerplate: removed even inside the chosen body and inside feed
// fragments.
constexpr std::array<std::string_view, 30> kBoilerplate = {
    "sharedaddy",      "share-",        "sharing",      "social",
    "sharebar",        "share_",        "shareable",    "related",
    "newsletter",      "subscribe",     "signup",       "sign-up",
    "comment-respond", "comments-area", "comment-form", "commentlist",
    "comment-list",    "disqus",        "respond",      "outbrain",
    "taboola",         "adsbygoogle",   "advert",       "ad-slot",
    "ad-label",        "ad-container",  "sponsored",    "jp-relatedposts",
    "yarpp",           "cookie"};
constexpr std::array<std::string_view, 7> kComments = {
    "comments", "comment-",    "disqus",  "respond",
    "dsq-",     "commentlist", "comment_"};
constexpr std::array<std::string_view, 13> kPositive = {
    "article", "body", "content", "entry", "hentry", "h-entry", "main",
    "page",    "post", "text",    "blog",  "story",  "prose"};
constexpr std::array<std::string_view, 25> kNegative = {
    "-ad-",    "hidden",   "banner",   "combx",   "comment",
    "com-",    "contact",  "footer",   "gdpr",    "masthead",
    "media",   "meta",     "outbrain", "promo",   "related",
    "scroll",  "share",    "shoutbox", "sidebar", "skyscraper",
    "sponsor", "shopping", "tags",     "widget",  "byline"};

constexpr std::array<std::string_view, 5> kEmbeds = {
    "twitter-tweet", "instagram-media", "tiktok-embed", "social-embed",
    "media-embed"};

enum : unsigned {
  kListMaybe = 1,
  kListUnlikely = 2,
  kListBoilerplate = 4,
  kListComments = 8,
  kListPositive = 16,
  kListNegative = 32,
  kListEmbeds = 64,
};

// All the name lists in one index bucketed by first byte: one scan over a
// class/id string finds every list with a substring hit (instead of one
// find() per needle).
class NeedleIndex {
 public:
  NeedleIndex() {
    Add(kMaybe, kListMaybe);
    Add(kUnlikely, kListUnlikely);
    Add(kBoilerplate, kListBoilerplate);
    Add(kComments, kListComments);
    Add(kPositive, kListPositive);
    Add(kNegative, kListNegative);
    Add(kEmbeds, kListEmbeds);
  }
  // Bit set of the lists with a needle inside `hay` (lower-case).
  unsigned Scan(std::string_view hay) const {
    unsigned hits = 0;
    for (size_t i = 0; i < hay.size(); ++i) {
      for (const Entry& e : buckets_[static_cast<unsigned char>(hay[i])]) {
        if ((hits & e.lists) == e.lists) continue;
        if (hay.size() - i >= e.text.size() &&
            hay.compare(i, e.text.size(), e.text) == 0)
          hits |= e.lists;
      }
    }
    return hits;
  }

 private:
  struct Entry {
    std::string_view text;
    unsigned lists;
  };
  template <size_t N>
  void Add(const std::array<std::string_view, N>& list, unsigned bit) {
    for (std::string_view n : list) {
      auto& bucket = buckets_[static_cast<unsigned char>(n[0])];
      auto it = std::find_if(bucket.begin(), bucket.end(),
                             [&](const Entry& e) { return e.text == n; });
      if (it != bucket.end())
        it->lists |= bit;
      else
        bucket.push_back({n, bit});
    }
  }
  std::array<std::vector<Entry>, 256> buckets_;
};

const NeedleIndex& NameIndex() {
  static const NeedleIndex index;
  return index;
}

bool StartsWithWord(std::string_view s, std::string_view w) {
  if (s.size() < w.size()) return false;
  if (!EqualsIgnoreCase(s.substr(0, w.size()), w)) return false;
  return s.size() == w.size() ||
         !std::isalnum(static_cast<unsigned char>(s[w.size()]));
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && static_cast<unsigned char>(s.front()) <= ' ')
    s.remove_prefix(1);
  while (!s.empty() && static_cast<unsigned char>(s.back()) <= ' ')
    s.remove_suffix(1);
  return s;
}

}  // namespace

NameSignals ClassifyElement(const xmlNode* e) {
  NameSignals s;
  // One pass over the attributes; class and id lower-cased into a stack
  // buffer (names past 500 bytes are cut: nothing to learn from them).
  std::string_view cls, id, role, itemprop;
  for (const xmlAttr* a = IsElement(e) ? e->properties : nullptr; a;
       a = a->next) {
    if (!a->name) continue;
    std::string_view n(reinterpret_cast<const char*>(a->name));
    if (EqualsIgnoreCase(n, "class"))
      cls = Attr(e, "class");
    else if (EqualsIgnoreCase(n, "id"))
      id = Attr(e, "id");
    else if (EqualsIgnoreCase(n, "role"))
      role = Attr(e, "role");
    else if (EqualsIgnoreCase(n, "itemprop"))
      itemprop = Attr(e, "itemprop");
  }
  if (cls.empty() && id.empty() && role.empty() && itemprop.empty()) return s;
  char buf[512];
  size_t len = 0;
  for (std::string_view part : {cls, std::string_view(" "), id})
    for (char c : part) {
      if (len == sizeof buf) break;
      buf[len++] =
          (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    }
  std::string_view names(buf, len);
  unsigned hits = 0;
  if (names.size() > 1) {
    hits = NameIndex().Scan(names);
    s.maybe_content = hits & kListMaybe;
    s.unlikely = hits & kListUnlikely;
    s.boilerplate = hits & kListBoilerplate;
    s.comments = hits & kListComments;
    if (hits & kListPositive) s.weight += 25;
    if (hits & kListNegative) s.weight -= 25;
  }
  if (!role.empty()) {
    std::string r = ToLower(role);
    if (r == "menu" || r == "menubar" || r == "complementary" ||
        r == "navigation" || r == "alert" || r == "alertdialog" ||
        r == "dialog" || r == "banner" || r == "contentinfo" || r == "search") {
      s.unlikely = true;
      s.maybe_content = false;
    }
  }
  // Embedded posts (tweets, Instagram...) are quoted content even inside a
  // "social-media-embed" wrapper.
  if (hits & kListEmbeds) {
    s.unlikely = false;
    s.boilerplate = false;
    s.comments = false;
    s.weight = std::max(s.weight, 0);
    s.embed = true;
  }
  if (ContainsLower(itemprop, "articlebody")) {
    s.unlikely = false;
    s.boilerplate = false;
    s.weight += 50;
  }
  return s;
}

bool IsHidden(const xmlNode* e) {
  bool present = false;
  Attr(e, "hidden", &present);
  if (present) return true;
  if (EqualsIgnoreCase(Attr(e, "aria-hidden"), "true")) return true;
  std::string_view style = Attr(e, "style");
  if (!style.empty()) {
    std::string s;
    for (char c : style)
      if (c != ' ' && c != '\t' && c != '\n')
        s.push_back(std::tolower(static_cast<unsigned char>(c)));
    if (s.find("display:none") != std::string::npos ||
        s.find("visibility:hidden") != std::string::npos)
      return true;
  }
  return false;
}

int CountSpaceSeparated(std::string_view text) {
  int n = 0;
  bool in = false;
  for (char c : text) {
    bool sp = static_cast<unsigned char>(c) <= ' ';
    if (!sp && !in) ++n;
    in = !sp;
  }
  return n;
}

bool IsTerminatingBlock(std::string_view text) {
  text = Trim(text);
  if (text.empty() || CountSpaceSeparated(text) >= 15) return false;
  std::string lower = ToLower(text);
  std::string_view l = lower;
  // "12 Comments", "1 comment", "Comments (3)".
  size_t i = 0;
  while (i < l.size() && std::isdigit(static_cast<unsigned char>(l[i]))) ++i;
  if (i > 0) {
    std::string_view rest = Trim(l.substr(i));
    if (StartsWithWord(rest, "comments") || StartsWithWord(rest, "comment") ||
        StartsWithWord(rest, "responses") || StartsWithWord(rest, "replies"))
      return true;
  }
  static constexpr std::array<std::string_view, 18> kStarts = {
      "like this story",
      "like this article",
      "comments",
      "post a comment",
      "leave a reply",
      "leave a comment",
      "please rate this",
      "© reuters",
      "add a comment",
      "join the discussion",
      "join the conversation",
      "related posts",
      "related articles",
      "related stories",
      "share this:",
      "share this article",
      "you may also like",
      "recommended for you"};
  for (std::string_view s : kStarts)
    if (StartsWithWord(l, s) || (s.back() == ':' && l.rfind(s, 0) == 0))
      return true;
  static constexpr std::array<std::string_view, 5> kContains = {
      "add your comment", "have your say", "reader views",
      "your email address will not be published", "required fields are marked"};
  for (std::string_view s : kContains)
    if (l.find(s) != std::string_view::npos) return true;
  return false;
}

bool IsFeedTrailer(std::string_view text) {
  text = Trim(text);
  if (text.empty() || CountSpaceSeparated(text) > 60) return false;
  std::string l = ToLower(text);
  if (l.find("appeared first on") != std::string::npos) return true;
  if (l.rfind("the post ", 0) == 0 &&
      l.find("first appeared on") != std::string::npos)
    return true;
  if (l.rfind("this entry was posted in", 0) == 0) return true;
  if (l.rfind("this article was originally published", 0) == 0 &&
      CountSpaceSeparated(text) < 25)
    return false;  // attribution, keep
  return false;
}

bool IsLeadInBlock(std::string_view text) {
  text = Trim(text);
  if (text.empty() || CountSpaceSeparated(text) > 30) return false;
  std::string l = ToLower(text.substr(0, 40));
  static constexpr std::array<std::string_view, 17> kLeads = {
      "also read",    "read also",    "see also",
      "also on ",     "don't miss",   "don\xE2\x80\x99t miss",
      "see more",     "more:",        "related:",
      "read more:",   "recommended:", "most read",
      "most popular", "trending:",    "watch:",
      "also see",     "more from"};
  for (std::string_view s : kLeads)
    if (l.rfind(s, 0) == 0) return true;
  // "More Great WIRED Stories", "More news".
  if (CountSpaceSeparated(text) <= 6 && StartsWithWord(text, "more")) {
    std::string full = ToLower(text);
    for (std::string_view e : {"stories", "articles", "news", "videos"})
      if (full.size() >= e.size() &&
          full.compare(full.size() - e.size(), e.size(), e) == 0)
        return true;
  }
  return false;
}

bool IsCopyrightLine(std::string_view text) {
  text = Trim(text);
  if (text.empty() || CountSpaceSeparated(text) > 40) return false;
  std::string l = ToLower(text);
  // "... are ©2019 Capitol Hill Publishing": the sign next to a year.
  for (size_t at = l.find("\xC2\xA9"); at != std::string::npos;
       at = l.find("\xC2\xA9", at + 2)) {
    size_t y = at + 2;
    while (y < l.size() && l[y] == ' ') ++y;
    if (y + 4 <= l.size() && std::isdigit(static_cast<unsigned char>(l[y])) &&
        std::isdigit(static_cast<unsigned char>(l[y + 3])))
      return true;
  }
  return l.rfind("\xC2\xA9", 0) == 0 || l.rfind("copyright", 0) == 0 ||
         l.rfind("image copyright", 0) == 0 || l.rfind("(c) ", 0) == 0 ||
         l.find("all rights reserved") != std::string::npos;
}

bool IsDateline(std::string_view text) {
  text = Trim(text);
  if (text.empty() || CountSpaceSeparated(text) > 15) return false;
  bool digit = false;
  for (char c : text)
    if (c >= '0' && c <= '9') digit = true;
  if (!digit) return false;
  for (std::string_view w : {"updated", "posted", "published", "last updated"})
    if (StartsWithWord(text, w)) return true;
  return false;
}

bool IsByline(std::string_view text) {
  text = Trim(text);
  if (!StartsWithWord(text, "by") || CountSpaceSeparated(text) > 12)
    return false;
  // "By Jane Doe ...": two capitalised words after "By", and not a sentence.
  std::string_view rest = Trim(text.substr(2));
  if (rest.empty() || !std::isupper(static_cast<unsigned char>(rest[0])))
    return false;
  size_t sp = rest.find(' ');
  if (sp == std::string_view::npos) return false;
  std::string_view second = Trim(rest.substr(sp));
  if (second.empty() || !std::isupper(static_cast<unsigned char>(second[0])))
    return false;
  char last = text.back();
  return last != '.' && last != '?' && last != '!' && last != ':';
}

bool IsPromoLine(std::string_view text) {
  text = Trim(text);
  if (text.empty() || CountSpaceSeparated(text) > 60) return false;
  std::string l = ToLower(text);
  auto has = [&](std::string_view w) { return l.find(w) != std::string::npos; };
  if (has("newsletter") && (has("sign up") || has("subscribe"))) return true;
  if (l.rfind("subscribe to ", 0) == 0 && CountSpaceSeparated(text) <= 25)
    return true;
  if (l.rfind("follow ", 0) == 0 &&
      (has(" on twitter") || has(" on facebook") || has(" on instagram")))
    return true;
  return has("follow us on") || has("follow him on") || has("follow her on") ||
         has("follow me on") || has("follow them on");
}

bool IsShouting(std::string_view text) {
  int upper = 0, lower = 0;
  for (char c : text) {
    if (c >= 'A' && c <= 'Z') ++upper;
    if (c >= 'a' && c <= 'z') ++lower;
  }
  return upper >= 10 && lower * 10 <= upper;
}

bool IsReadMoreText(std::string_view text) {
  text = Trim(text);
  if (text.empty() || CountSpaceSeparated(text) > 20) return false;
  static constexpr std::array<std::string_view, 9> kStarts = {
      "continue reading", "read more",     "read the full",
      "keep reading",     "read the rest", "read full",
      "more »",           "lire la suite", "weiterlesen"};
  for (std::string_view s : kStarts)
    if (text.size() >= s.size() &&
        EqualsIgnoreCase(text.substr(0, s.size()), s))
      return true;
  return false;
}

}  // namespace newsflow::cleaner
