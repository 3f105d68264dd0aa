#include "daemon/cleaner/metadata.h"

#include <array>
#include <cctype>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "daemon/cleaner/dom.h"
#include "daemon/cleaner/sanitizer.h"

namespace newsflow::cleaner {
namespace {

using nlohmann::json;

std::string Collapse(std::string_view s) {
  std::string out;
  bool space = false;
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    bool sp = c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
    if (c == 0xC2 && i + 1 < s.size() &&
        static_cast<unsigned char>(s[i + 1]) == 0xA0) {
      ++i;
      sp = true;
    }
    if (sp) {
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(static_cast<char>(c));
  }
  return out;
}

// JSON-LD values may themselves hold HTML entities; decode the common ones.
std::string DecodeEntities(std::string_view s) {
  if (s.find('&') == std::string_view::npos) return std::string(s);
  std::string wrapped = "<p>" + std::string(s) + "</p>";
  return HtmlToPlainText(wrapped);
}

struct Collected {
  std::string ld_headline, ld_author_joined, ld_published, ld_modified, ld_url,
      ld_image, ld_publisher, ld_lang, ld_description, ld_body;
  std::vector<std::string> ld_authors;
  std::string og_title, og_url, og_image, og_site, og_locale, og_description,
      og_published, og_modified, og_updated;
  std::string tw_title, tw_image, tw_description;
  std::string meta_author, meta_description, meta_date, meta_modified,
      meta_lang, meta_appname, itemprop_published, itemprop_modified;
  std::string title_tag, canonical, html_lang, h1, time_datetime;
  std::vector<std::string> rel_authors;
};

std::string JsonString(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_array() && !v.empty()) return JsonString(v.front());
  if (v.is_object()) {
    for (const char* k : {"url", "@id", "name", "contentUrl"}) {
      auto it = v.find(k);
      if (it != v.end() && it->is_string()) return it->get<std::string>();
    }
  }
  return {};
}

void JsonNames(const json& v, std::vector<std::string>* out) {
  if (v.is_string()) {
    out->push_back(v.get<std::string>());
  } else if (v.is_array()) {
    for (const json& x : v) JsonNames(x, out);
  } else if (v.is_object()) {
    auto it = v.find("name");
    if (it != v.end() && it->is_string())
      out->push_back(it->get<std::string>());
  }
}

bool TypeIsArticle(const json& t) {
  if (t.is_array()) {
    for (const json& x : t)
      if (TypeIsArticle(x)) return true;
    return false;
  }
  if (!t.is_string()) return false;
  std::string s = t.get<std::string>();
  return s.find("Article") != std::string::npos || s == "BlogPosting" ||
         s == "Report" || s == "LiveBlogPosting" || s == "NewsArticle" ||
         s == "Review" || s == "Posting" || s == "SocialMediaPosting";
}

void FindArticles(const json& v, std::vector<const json*>* out, int depth) {
  if (depth > 8) return;
  if (v.is_array()) {
    for (const json& x : v) FindArticles(x, out, depth + 1);
  } else if (v.is_object()) {
    auto t = v.find("@type");
    if (t != v.end() && TypeIsArticle(*t)) out->push_back(&v);
    auto g = v.find("@graph");
    if (g != v.end()) FindArticles(*g, out, depth + 1);
  }
}

// nlohmann's parser is iterative, but refuse absurd nesting anyway.
bool NestingOk(std::string_view s) {
  int depth = 0;
  for (char c : s) {
    if (c == '[' || c == '{') {
      if (++depth > 64) return false;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return true;
}

void ReadJsonLd(std::string_view text, Collected* c) {
  if (!NestingOk(text)) return;
  json doc = json::parse(text.begin(), text.end(), nullptr, false);
  if (doc.is_discarded()) return;
  std::vector<const json*> articles;
  FindArticles(doc, &articles, 0);
  if (articles.empty()) return;
  const json& a = *articles.front();
  auto get = [&](const char* k) -> std::string {
    auto it = a.find(k);
    return it == a.end() ? std::string() : JsonString(*it);
  };
  if (c->ld_headline.empty()) c->ld_headline = get("headline");
  if (c->ld_headline.empty()) c->ld_headline = get("name");
  if (c->ld_published.empty()) c->ld_published = get("datePublished");
  if (c->ld_modified.empty()) c->ld_modified = get("dateModified");
  if (c->ld_url.empty()) c->ld_url = get("url");
  if (c->ld_image.empty()) c->ld_image = get("image");
  if (c->ld_lang.empty()) c->ld_lang = get("inLanguage");
  if (c->ld_description.empty()) c->ld_description = get("description");
  if (c->ld_body.empty()) c->ld_body = get("articleBody");
  if (c->ld_publisher.empty()) {
    auto it = a.find("publisher");
    if (it != a.end()) {
      if (it->is_object()) {
        auto n = it->find("name");
        if (n != it->end() && n->is_string()) c->ld_publisher = *n;
      } else if (it->is_string()) {
        c->ld_publisher = *it;
      }
    }
  }
  if (c->ld_authors.empty()) {
    auto it = a.find("author");
    if (it != a.end()) JsonNames(*it, &c->ld_authors);
  }
}

void Walk(xmlNode* n, Collected* c, int depth) {
  for (xmlNode* e = n; e; e = e->next) {
    if (!IsElement(e) || depth > kMaxDepth) continue;
    std::string_view name = Name(e);
    if (name == "meta") {
      std::string key = ToLower(Attr(e, "property"));
      if (key.empty()) key = ToLower(Attr(e, "name"));
      if (key.empty()) key = ToLower(Attr(e, "itemprop"));
      std::string http_equiv = ToLower(Attr(e, "http-equiv"));
      std::string value = Collapse(Attr(e, "content"));
      auto set = [&](std::string* dst) {
        if (dst->empty()) *dst = value;
      };
      if (key == "og:title")
        set(&c->og_title);
      else if (key == "og:url")
        set(&c->og_url);
      else if (key == "og:image" || key == "og:image:url" ||
               key == "og:image:secure_url")
        set(&c->og_image);
      else if (key == "og:site_name")
        set(&c->og_site);
      else if (key == "og:locale")
        set(&c->og_locale);
      else if (key == "og:description")
        set(&c->og_description);
      else if (key == "article:published_time" || key == "og:published_time")
        set(&c->og_published);
      else if (key == "article:modified_time" || key == "og:modified_time")
        set(&c->og_modified);
      else if (key == "og:updated_time")
        set(&c->og_updated);
      else if (key == "twitter:title")
        set(&c->tw_title);
      else if (key == "twitter:image" || key == "twitter:image:src")
        set(&c->tw_image);
      else if (key == "twitter:description")
        set(&c->tw_description);
      else if (key == "author" || key == "dc.creator" || key == "byl" ||
               key == "sailthru.author" || key == "parsely-author" ||
               key == "article:author") {
        if (value.find("://") == std::string::npos) set(&c->meta_author);
      } else if (key == "description")
        set(&c->meta_description);
      else if (key == "datepublished")
        set(&c->itemprop_published);
      else if (key == "datemodified")
        set(&c->itemprop_modified);
      else if (key == "date" || key == "pubdate" || key == "publishdate" ||
               key == "publish-date" || key == "dc.date" ||
               key == "dc.date.issued" || key == "dcterms.created" ||
               key == "sailthru.date" || key == "parsely-pub-date")
        set(&c->meta_date);
      else if (key == "last-modified" || key == "dcterms.modified")
        set(&c->meta_modified);
      else if (key == "application-name")
        set(&c->meta_appname);
      if (http_equiv == "content-language") set(&c->meta_lang);
    } else if (name == "link") {
      std::string rel = ToLower(Attr(e, "rel"));
      if (rel == "canonical" && c->canonical.empty())
        c->canonical = Collapse(Attr(e, "href"));
    } else if (name == "title") {
      if (c->title_tag.empty()) {
        std::string t;
        AppendAllText(e, &t);
        c->title_tag = Collapse(t);
      }
    } else if (name == "script") {
      if (ContainsLower(Attr(e, "type"), "ld+json")) {
        std::string t;
        AppendAllText(e, &t);
        ReadJsonLd(t, c);
      }
      continue;
    } else if (name == "html") {
      if (c->html_lang.empty()) c->html_lang = Collapse(Attr(e, "lang"));
      if (c->html_lang.empty()) c->html_lang = Collapse(Attr(e, "xml:lang"));
    } else if (name == "h1") {
      if (c->h1.empty()) {
        std::string t;
        AppendAllText(e, &t);
        c->h1 = Collapse(t);
      }
    } else if (name == "time") {
      if (c->time_datetime.empty())
        c->time_datetime = Collapse(Attr(e, "datetime"));
    } else if (name == "a" || name == "span" || name == "div") {
      if (ContainsLower(Attr(e, "rel"), "author") ||
          ContainsLower(Attr(e, "itemprop"), "author")) {
        std::string t;
        AppendAllText(e, &t);
        t = Collapse(t);
        if (!t.empty() && t.size() < 80) c->rel_authors.push_back(t);
      }
    }
    if (e->children) Walk(e->children, c, depth + 1);
  }
}

const std::string& First(std::initializer_list<const std::string*> list) {
  static const std::string kEmpty;
  for (const std::string* s : list)
    if (!s->empty()) return *s;
  return kEmpty;
}

int Digits(std::string_view s, size_t* i, int n) {
  int v = 0;
  for (int k = 0; k < n; ++k) {
    if (*i >= s.size() || !std::isdigit(static_cast<unsigned char>(s[*i])))
      return -1;
    v = v * 10 + (s[(*i)++] - '0');
  }
  return v;
}

std::optional<TimePoint> ParseIso(std::string_view s) {
  size_t i = 0;
  int y = Digits(s, &i, 4);
  if (y < 0 || i >= s.size() || s[i] != '-') return std::nullopt;
  ++i;
  int mo = Digits(s, &i, 2);
  if (mo < 0 || i >= s.size() || s[i] != '-') return std::nullopt;
  ++i;
  int d = Digits(s, &i, 2);
  if (d < 0) return std::nullopt;
  int h = 0, mi = 0, sec = 0, ms = 0, off = 0;
  if (i < s.size() && (s[i] == 'T' || s[i] == 't' || s[i] == ' ')) {
    ++i;
    h = Digits(s, &i, 2);
    if (h < 0 || i >= s.size() || s[i] != ':') return std::nullopt;
    ++i;
    mi = Digits(s, &i, 2);
    if (mi < 0) return std::nullopt;
    if (i < s.size() && s[i] == ':') {
      ++i;
      sec = Digits(s, &i, 2);
      if (sec < 0) return std::nullopt;
      if (i < s.size() && (s[i] == '.' || s[i] == ',')) {
        ++i;
        int scale = 100;
        while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
          ms += (s[i] - '0') * scale;
          scale /= 10;
          ++i;
        }
      }
    }
    while (i < s.size() && s[i] == ' ') ++i;
    if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) {
      ++i;
    } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
      int sign = s[i] == '-' ? -1 : 1;
      ++i;
      int oh = Digits(s, &i, 2);
      if (oh < 0) return std::nullopt;
      if (i < s.size() && s[i] == ':') ++i;
      size_t save = i;
      int om = Digits(s, &i, 2);
      if (om < 0) {
        om = 0;
        i = save;
      }
      off = sign * (oh * 60 + om);
    }
  }
  return MakeUtc(y, mo, d, h, mi, sec, ms, off);
}

std::optional<TimePoint> ParseRfc822(std::string_view s) {
  static constexpr std::array<std::string_view, 12> kMonths = {
      "jan", "feb", "mar", "apr", "may", "jun",
      "jul", "aug", "sep", "oct", "nov", "dec"};
  std::string l = ToLower(s);
  size_t comma = l.find(',');
  size_t i = comma == std::string::npos ? 0 : comma + 1;
  while (i < l.size() && l[i] == ' ') ++i;
  int d = 0;
  size_t st = i;
  while (i < l.size() && std::isdigit(static_cast<unsigned char>(l[i])) &&
         i - st < 2)
    d = d * 10 + (l[i++] - '0');
  if (i == st) return std::nullopt;
  while (i < l.size() && l[i] == ' ') ++i;
  int mo = 0;
  for (size_t k = 0; k < kMonths.size(); ++k)
    if (l.compare(i, 3, kMonths[k]) == 0) mo = static_cast<int>(k) + 1;
  if (!mo) return std::nullopt;
  while (i < l.size() && l[i] != ' ') ++i;
  while (i < l.size() && l[i] == ' ') ++i;
  int y = Digits(l, &i, 4);
  if (y < 0) return std::nullopt;
  while (i < l.size() && l[i] == ' ') ++i;
  int h = Digits(l, &i, 2), mi = 0, sec = 0, off = 0;
  if (h < 0) return MakeUtc(y, mo, d, 0, 0, 0);
  if (i < l.size() && l[i] == ':') ++i;
  mi = Digits(l, &i, 2);
  if (mi < 0) return std::nullopt;
  if (i < l.size() && l[i] == ':') {
    ++i;
    sec = Digits(l, &i, 2);
    if (sec < 0) return std::nullopt;
  }
  while (i < l.size() && l[i] == ' ') ++i;
  if (i < l.size() && (l[i] == '+' || l[i] == '-')) {
    int sign = l[i] == '-' ? -1 : 1;
    ++i;
    int hh = Digits(l, &i, 2), mm = Digits(l, &i, 2);
    if (hh >= 0 && mm >= 0) off = sign * (hh * 60 + mm);
  }
  return MakeUtc(y, mo, d, h, mi, sec, 0, off);
}

std::string NormalizeLang(std::string s) {
  for (char& c : s)
    if (c == '_') c = '-';
  return s;
}

}  // namespace

std::optional<TimePoint> ParseDate(std::string_view text) {
  std::string t = Collapse(text);
  if (t.empty()) return std::nullopt;
  if (auto r = ParseIso(t)) return r;
  return ParseRfc822(t);
}

std::string DocumentBaseHref(xmlDoc* doc) {
  xmlNode* root = doc ? xmlDocGetRootElement(doc) : nullptr;
  for (xmlNode* h = root ? root->children : nullptr; h; h = h->next) {
    if (!IsElement(h) || Name(h) != "head") continue;
    for (xmlNode* e = h->children; e; e = e->next)
      if (IsElement(e) && Name(e) == "base") return Collapse(Attr(e, "href"));
  }
  return {};
}

namespace {

std::string_view TrimView(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

// Site names compare without case and without a leading "The ".
bool SameSite(std::string_view a, std::string_view b) {
  a = TrimView(a);
  b = TrimView(b);
  auto strip_the = [](std::string_view x) {
    if (x.size() > 4 && EqualsIgnoreCase(x.substr(0, 4), "the "))
      x.remove_prefix(4);
    return x;
  };
  a = strip_the(a);
  b = strip_the(b);
  return !a.empty() && EqualsIgnoreCase(a, b);
}

}  // namespace

std::string StripSiteName(const std::string& title,
                          const std::string& site_name,
                          const std::vector<std::string>& others) {
  static constexpr std::string_view kSeparators[] = {
      " | ",  " \xE2\x80\x93 ", " \xE2\x80\x94 ", " - ",
      " :: ", " \xC2\xB7 ",     " \xC2\xBB ",     " / "};
  for (std::string_view sep : kSeparators) {
    // "Headline | Site": the last separator; "Site | Headline": the first.
    size_t last = title.rfind(sep);
    if (last != std::string::npos && last > 0) {
      std::string_view head = TrimView(std::string_view(title).substr(0, last));
      std::string_view tail =
          TrimView(std::string_view(title).substr(last + sep.size()));
      bool other_says_head = false;
      for (const std::string& o : others)
        if (!o.empty() && o != title && EqualsIgnoreCase(o, head))
          other_says_head = true;
      if (!head.empty() && (SameSite(tail, site_name) || other_says_head))
        return std::string(head);
    }
    size_t first = title.find(sep);
    if (first != std::string::npos && first > 0) {
      std::string_view head =
          TrimView(std::string_view(title).substr(0, first));
      std::string_view rest =
          TrimView(std::string_view(title).substr(first + sep.size()));
      if (!rest.empty() && SameSite(head, site_name)) return std::string(rest);
    }
  }
  return title;
}

PageMetadata ReadMetadata(xmlDoc* doc, const std::string& base_url,
                          std::string* article_body) {
  PageMetadata m;
  xmlNode* root = doc ? xmlDocGetRootElement(doc) : nullptr;
  if (!root) return m;
  Collected c;
  Walk(root, &c, 0);
  if (article_body) *article_body = std::move(c.ld_body);

  m.site_name =
      DecodeEntities(First({&c.og_site, &c.ld_publisher, &c.meta_appname}));
  m.title = DecodeEntities(First({&c.ld_headline, &c.og_title, &c.tw_title}));
  if (m.title.empty()) m.title = c.h1.empty() ? c.title_tag : c.h1;
  m.title = Collapse(m.title);
  m.title =
      StripSiteName(m.title, Collapse(m.site_name),
                    {Collapse(c.h1), Collapse(DecodeEntities(c.ld_headline)),
                     Collapse(DecodeEntities(c.og_title)),
                     Collapse(DecodeEntities(c.tw_title))});

  std::vector<std::string> authors = c.ld_authors;
  if (authors.empty() && !c.meta_author.empty()) {
    std::string a = c.meta_author;
    if (a.rfind("By ", 0) == 0 || a.rfind("by ", 0) == 0) a = a.substr(3);
    authors.push_back(a);
  }
  if (authors.empty()) authors = c.rel_authors;
  for (std::string& a : authors) {
    a = Collapse(DecodeEntities(a));
    if (a.empty()) continue;
    if (std::find(m.authors.begin(), m.authors.end(), a) == m.authors.end())
      m.authors.push_back(a);
  }

  m.published =
      ParseDate(First({&c.ld_published, &c.og_published, &c.itemprop_published,
                       &c.meta_date, &c.time_datetime}));
  m.updated = ParseDate(First({&c.ld_modified, &c.og_modified, &c.og_updated,
                               &c.itemprop_modified, &c.meta_modified}));

  std::string canonical = First({&c.canonical, &c.og_url, &c.ld_url});
  if (!canonical.empty()) m.canonical_url = SafeUrl(base_url, canonical, false);
  std::string image = First({&c.og_image, &c.tw_image, &c.ld_image});
  if (!image.empty()) m.image = SafeUrl(base_url, image, false);
  m.language = NormalizeLang(
      First({&c.html_lang, &c.meta_lang, &c.og_locale, &c.ld_lang}));
  m.description = DecodeEntities(First({&c.og_description, &c.meta_description,
                                        &c.tw_description, &c.ld_description}));
  return m;
}

}  // namespace newsflow::cleaner
