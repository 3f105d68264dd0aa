#include "daemon/normalizer/normalizer.h"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cassert>
#include <cctype>

#include "daemon/cleaner/html_cleaner.h"
#include "daemon/core/hash.h"
#include "daemon/core/text_util.h"
#include "daemon/core/url.h"
#include "daemon/normalizer/language.h"

namespace newsflow {
namespace {

std::string ToHex(const unsigned char* digest, unsigned int len) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 0xF]);
  }
  return out;
}

// Appends `s` followed by a separator that cannot occur in UTF-8 text, so
// that ("ab","c") and ("a","bc") hash differently.
void AppendField(std::string& out, std::string_view s) {
  out.append(s);
  out.push_back('\xff');
}

}  // namespace

std::string CanonicalizeUrl(std::string_view url) {
  Result<Url> u = Url::Parse(url);
  if (!u || !u->IsHttp()) return std::string(url);
  // Most item links have neither: no copies then.
  if (!u->has_fragment() && !u->has_query()) return u->href();
  if (!u->has_query()) return u->WithoutFragment().href();
  if (!u->has_fragment()) return u->WithoutTrackingParameters().href();
  return u->WithoutFragment().WithoutTrackingParameters().href();
}

std::string ArticleId(std::string_view feed_id, std::string_view guid,
                      std::string_view canonical_url) {
  std::string key;
  if (!guid.empty()) {
    key = "guid";
    key.push_back('\xff');
    AppendField(key, feed_id);
    key.append(guid);
  } else {
    key = "url";
    key.push_back('\xff');
    key.append(canonical_url);
  }
  return Sha256Hex(key).substr(0, 32);
}

namespace {

// Streams fields into one SHA-256 without concatenating them first: item
// hashes run for every item of every poll, and feed bodies can be large.
class FieldHasher {
 public:
  // One context per thread, reset per hash: allocating one per item shows.
  FieldHasher() : ctx_(ThreadContext()) {
    EVP_DigestInit_ex(ctx_, Sha256Algorithm(), nullptr);
  }
  FieldHasher(const FieldHasher&) = delete;
  FieldHasher& operator=(const FieldHasher&) = delete;

  // Same bytes as AppendField(): the value, then a separator byte.
  void Add(std::string_view s) {
    EVP_DigestUpdate(ctx_, s.data(), s.size());
    EVP_DigestUpdate(ctx_, "\xff", 1);
  }
  std::string HexDigest() {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx_, digest, &len);
    return ToHex(digest, len);
  }

 private:
  static EVP_MD_CTX* ThreadContext() {
    struct Owner {
      EVP_MD_CTX* ctx = EVP_MD_CTX_new();
      ~Owner() { EVP_MD_CTX_free(ctx); }
    };
    thread_local Owner owner;
    return owner.ctx;
  }

  EVP_MD_CTX* ctx_;
};

}  // namespace

std::string ItemHash(const FeedItem& item, bool include_guid) {
  FieldHasher h;
  h.Add(item.title);
  h.Add(item.link);
  h.Add(include_guid ? std::string_view(item.guid) : std::string_view());
  h.Add(item.summary);
  h.Add(item.content);
  h.Add(item.published ? FormatRfc3339(*item.published) : "");
  h.Add(item.updated ? FormatRfc3339(*item.updated) : "");
  return h.HexDigest();
}

int CountWords(std::string_view text) {
  int words = 0;
  bool in_word = false;
  for (size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      const bool word_char = std::isalnum(c) || c == '_' || c == '\'';
      if (word_char && !in_word) ++words;
      in_word = word_char;
      ++i;
      continue;
    }
    // Multi-byte: decode the lead to spot CJK ideographs/kana/hangul, which
    // are written without spaces and count as one word each.
    size_t len = (c >= 0xF0) ? 4 : (c >= 0xE0) ? 3 : (c >= 0xC0) ? 2 : 1;
    uint32_t cp = 0;
    if (len == 3 && i + 2 < text.size()) {
      cp = ((c & 0x0F) << 12) | ((text[i + 1] & 0x3F) << 6) |
           (text[i + 2] & 0x3F);
    }
    const bool cjk = (cp >= 0x3040 && cp <= 0x30FF) ||
                     (cp >= 0x3400 && cp <= 0x9FFF) ||
                     (cp >= 0xAC00 && cp <= 0xD7AF);
    const bool space =
        (cp == 0x3000) || (c == 0xC2 && i + 1 < text.size() &&
                           static_cast<unsigned char>(text[i + 1]) == 0xA0);
    if (cjk) {
      ++words;
      in_word = false;
    } else if (space) {
      in_word = false;
    } else if (!in_word) {
      ++words;
      in_word = true;
    }
    i += len;
  }
  return words;
}

Article Normalize(const NormalizeInput& in) {
  assert(in.item != nullptr && in.content != nullptr);
  const FeedItem& item = *in.item;
  const PageMetadata* page = in.page;
  Article a;
  a.feed = in.feed;
  a.url = !item.source_link.empty() ? item.source_link : item.link;
  if (a.url.empty() && page != nullptr) a.url = page->canonical_url;
  a.canonical_url = CanonicalizeUrl(a.url);
  a.id = ArticleId(in.feed.id, item.guid, a.canonical_url);

  a.title = HtmlToPlainText(item.title);
  if (a.title.empty() && page != nullptr) a.title = page->title;

  for (const Person& p : item.authors) {
    std::string name = !p.name.empty() ? p.name : p.email;
    if (!name.empty()) a.authors.push_back(std::move(name));
  }
  if (a.authors.empty() && !item.author.empty())
    a.authors.push_back(item.author);
  if (a.authors.empty() && page != nullptr) a.authors = page->authors;

  for (const std::string& c : item.categories) {
    std::string text = HtmlToPlainText(c);
    if (!text.empty() && std::find(a.categories.begin(), a.categories.end(),
                                   text) == a.categories.end()) {
      a.categories.push_back(std::move(text));
    }
  }
  a.published = item.published;
  if (!a.published && page != nullptr) a.published = page->published;
  a.updated = item.updated;
  if (!a.updated && page != nullptr) a.updated = page->updated;
  if (a.updated && a.published && *a.updated == *a.published) a.updated.reset();
  a.fetched_at = in.fetched_at;

  // Summaries carry the same trailers as bodies ("Continue reading", "The
  // post ... appeared first on ..."): clean them the same way.
  a.summary = CleanFragment(item.summary).text;
  if (a.summary.empty() && page != nullptr) a.summary = page->description;

  a.content_html = in.content->html;
  a.content_text = in.content->text;
  a.content_source = in.content_source;

  // Issue 13 (language): the operator's `language` as written (normalized);
  // else the first declared value that is a tag (item, page, feed), checked
  // against the text; else detected (daemon/normalizer/language.h).
  a.feed.language = NormalizeLanguageTag(in.feed.language);
  if (std::string forced = NormalizeLanguageTag(in.language_override);
      !forced.empty()) {
    a.language = std::move(forced);
  } else {
    std::string declared = NormalizeLanguageTag(item.language);
    if (declared.empty() && page != nullptr)
      declared = NormalizeLanguageTag(page->language);
    if (declared.empty()) declared = a.feed.language;
    a.language = ChooseLanguage(declared, a.title + "\n\n" + a.content_text);
  }

  a.image = item.image;
  if (a.image.empty() && page != nullptr) a.image = page->image;
  if (a.image.empty()) {
    for (const Enclosure& e : item.enclosures) {
      if (e.type.rfind("image/", 0) == 0) {
        a.image = e.url;
        break;
      }
    }
  }
  a.enclosures = item.enclosures;
  a.word_count = CountWords(a.content_text);
  a.content_hash = Sha256Hex(a.content_text);
  return a;
}

}  // namespace newsflow
