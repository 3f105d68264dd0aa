#include "daemon/cleaner/extractor.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <deque>
#include <string_view>

#include "daemon/cleaner/boilerplate.h"
#include "daemon/cleaner/dom.h"
#include "daemon/cleaner/sanitizer.h"

namespace newsflow::cleaner {
namespace {

template <size_t N>
bool In(std::string_view s, const std::array<std::string_view, N>& list) {
  return std::find(list.begin(), list.end(), s) != list.end();
}

void Remove(xmlNode* n) {
  xmlUnlinkNode(n);
  xmlFreeNode(n);
}

bool IsHeading(std::string_view n) {
  return n.size() == 2 && n[0] == 'h' && n[1] >= '1' && n[1] <= '6';
}

// Readability's DIV_TO_P_ELEMS: a div holding none of these reads as a
// paragraph.
constexpr std::array<std::string_view, 14> kDivBlockers = {
    "blockquote", "dl", "div",     "img",     "ol",     "p",  "pre",
    "table",      "ul", "section", "article", "figure", "h2", "h3"};

// Per-subtree counts, computed bottom-up.
struct Stats {
  int text = 0;     // code points, whitespace runs count one
  double link = 0;  // text inside <a> (in-page "#" links weigh 0.3)
  int commas = 0;
  int p = 0, img = 0, li = 0, input = 0, embed = 0, a = 0;
  int heading = 0;          // text inside h1-h6
  bool block_desc = false;  // has a kDivBlockers descendant
  int inline_text = 0;      // text of direct inline children (divs)
  int inline_commas = 0;

  void Add(const Stats& o) {
    text += o.text;
    link += o.link;
    commas += o.commas;
    p += o.p;
    img += o.img;
    li += o.li;
    input += o.input;
    embed += o.embed;
    a += o.a;
    heading += o.heading;
  }
  double LinkDensity() const { return text > 0 ? link / text : 0.0; }
};

// Adds what element `n` itself (named `name`) contributes to its subtree's
// stats, once its children have been added.
void CountOwnElement(const xmlNode* n, std::string_view name, Stats* st) {
  if (name == "a") {
    std::string_view href = Attr(n, "href");
    st->link = (!href.empty() && href[0] == '#') ? st->text * 0.3 : st->text;
    ++st->a;
  } else if (name == "p") {
    ++st->p;
  } else if (name == "img") {
    ++st->img;
  } else if (name == "li") {
    ++st->li;
  } else if (name == "input" || name == "textarea" || name == "select") {
    ++st->input;
  } else if (name == "object" || name == "embed" || name == "iframe") {
    ++st->embed;
  } else if (IsHeading(name)) {
    st->heading = st->text;
  }
}

void CountText(std::string_view s, Stats* st) {
  bool space = false;
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f') {
      if (!space) ++st->text;
      space = true;
      continue;
    }
    space = false;
    if ((c & 0xC0) != 0x80) ++st->text;
    if (c == ',') ++st->commas;
    // U+060C and U+FF0C, the Arabic and full-width commas.
    if (c == 0xD8 && i + 1 < s.size() &&
        static_cast<unsigned char>(s[i + 1]) == 0x8C)
      ++st->commas;
    if (c == 0xEF && i + 2 < s.size() &&
        static_cast<unsigned char>(s[i + 1]) == 0xBC &&
        static_cast<unsigned char>(s[i + 2]) == 0x8C)
      ++st->commas;
  }
}

class Scorer {
 public:
  explicit Scorer(const ExtractFlags& flags) : flags_(flags) {}

  Stats ComputeStats(xmlNode* n, int depth) {
    Stats st;
    if (depth > kMaxDepth) return st;
    if (IsText(n)) {
      CountText(TextContent(n), &st);
      return st;
    }
    if (!IsElement(n)) return st;
    std::string_view name = Name(n);
    for (xmlNode* c = n->children; c; c = c->next) {
      Stats cs = ComputeStats(c, depth + 1);
      st.Add(cs);
      if (IsElement(c)) {
        std::string_view cn = Name(c);
        bool blocker = In(cn, kDivBlockers);
        if (blocker || cs.block_desc) st.block_desc = true;
        if (!blocker && !cs.block_desc && !IsBlockElement(cn)) {
          st.inline_text += cs.text;
          st.inline_commas += cs.commas;
        }
      } else if (IsText(c)) {
        st.inline_text += cs.text;
        st.inline_commas += cs.commas;
      }
    }
    CountOwnElement(n, name, &st);
    DataOf(n)->stats = st;
    return st;
  }

  const Stats& StatsOf(const xmlNode* n) {
    static const Stats kEmpty;
    const NodeData* d = Find(n);
    return d ? d->stats : kEmpty;
  }

  // The node's score, or null when it was never scored.
  double* FindScore(const xmlNode* n) {
    NodeData* d = Find(n);
    return d && d->scored ? &d->score : nullptr;
  }

  double* ScoreOf(xmlNode* n) {
    NodeData* d = DataOf(n);
    if (d->scored) return &d->score;
    std::string_view name = Name(n);
    double s = 0;
    if (name == "div")
      s = 5;
    else if (name == "pre" || name == "td" || name == "blockquote")
      s = 3;
    else if (name == "address" || name == "ol" || name == "ul" ||
             name == "dl" || name == "dd" || name == "dt" || name == "li" ||
             name == "form")
      s = -3;
    else if (IsHeading(name) || name == "th")
      s = -5;
    if (flags_.weight_classes) s += ClassifyElement(n).weight;
    candidates_.push_back(n);
    d->scored = true;
    d->score = s;
    return &d->score;
  }

  void Propagate(xmlNode* first_ancestor, double score, xmlNode* stop) {
    int level = 0;
    for (xmlNode* a = first_ancestor; a && IsElement(a) && level < 5;
         a = a->parent, ++level) {
      double div = level == 0 ? 1 : level == 1 ? 2 : level * 3;
      *ScoreOf(a) += score / div;
      if (a == stop) break;
    }
  }

  void ScoreTree(xmlNode* n, xmlNode* body, int depth) {
    if (depth > kMaxDepth) return;
    for (xmlNode* c = n->children; c; c = c->next) {
      if (!IsElement(c)) continue;
      std::string_view name = Name(c);
      const Stats& st = StatsOf(c);
      bool para = name == "p" || name == "td" || name == "pre" ||
                  (name == "div" && !st.block_desc);
      if (para) {
        if (st.text >= 25)
          Propagate(c->parent, 1 + st.commas + std::min(st.text / 100, 3),
                    body);
      } else if (name == "div" && st.inline_text >= 25) {
        // Loose text among blocks: Readability wraps it in a <p>.
        Propagate(c, 1 + st.inline_commas + std::min(st.inline_text / 100, 3),
                  body);
      }
      if (!para || name == "td") ScoreTree(c, body, depth + 1);
    }
  }

  std::vector<xmlNode*> Choose(xmlNode* body) {
    ComputeStats(body, 0);
    ScoreTree(body, body, 0);
    xmlNode* top = nullptr;
    double top_score = 0;
    std::vector<std::pair<double, xmlNode*>> ranked;
    for (xmlNode* c : candidates_) {
      double& s = *FindScore(c);
      s *= 1.0 - StatsOf(c).LinkDensity();
      ranked.emplace_back(s, c);
    }
    std::stable_sort(ranked.begin(), ranked.end(),
                     [](auto& a, auto& b) { return a.first > b.first; });
    if (ranked.empty() || ranked.front().first <= 0) return {body};
    top = ranked.front().second;
    top_score = ranked.front().first;

    // Several strong candidates under one ancestor: take the ancestor.
    std::vector<xmlNode*> alts;
    for (size_t i = 1; i < ranked.size() && i < 5; ++i)
      if (ranked[i].first / top_score >= 0.75) alts.push_back(ranked[i].second);
    if (alts.size() >= 3) {
      for (xmlNode* p = top->parent; p && p != body->parent; p = p->parent) {
        int contained = 0;
        for (xmlNode* a : alts)
          for (xmlNode* x = a; x; x = x->parent)
            if (x == p) {
              ++contained;
              break;
            }
        if (contained >= 3) {
          top = p;
          break;
        }
        if (p == body) break;
      }
    }
    // Walk up while the parent scores better.
    double last = *ScoreOf(top);
    double threshold = last / 3;
    for (xmlNode* p = top->parent; p && IsElement(p) && p != body;
         p = p->parent) {
      const double* ps = FindScore(p);
      if (!ps) continue;
      if (*ps < threshold) break;
      if (*ps > last) {
        top = p;
        break;
      }
      last = *ps;
    }
    // An only child says nothing: take its parent.
    while (top != body && top->parent && top->parent != body &&
           IsElement(top->parent)) {
      int elements = 0;
      for (xmlNode* c = top->parent->children; c; c = c->next)
        if (IsElement(c)) ++elements;
      if (elements != 1) break;
      top = top->parent;
    }
    top_score = *ScoreOf(top);

    std::vector<xmlNode*> parts;
    if (top == body || !top->parent) return {top};
    double sibling_threshold = std::max(10.0, top_score * 0.2);
    std::string_view top_class = Attr(top, "class");
    for (xmlNode* s = top->parent->children; s; s = s->next) {
      if (!IsElement(s)) continue;
      if (s == top) {
        parts.push_back(s);
        continue;
      }
      double bonus = 0;
      if (!top_class.empty() && Attr(s, "class") == top_class)
        bonus = top_score * 0.2;
      const double* ss = FindScore(s);
      if (ss && *ss + bonus >= sibling_threshold) {
        parts.push_back(s);
        continue;
      }
      if (Name(s) == "p") {
        const Stats& st = StatsOf(s);
        double ld = st.LinkDensity();
        std::string text;
        AppendAllText(s, &text);
        if (st.text > 80 && ld < 0.25) {
          parts.push_back(s);
        } else if (st.text < 80 && st.text > 0 && ld == 0 &&
                   (text.find(". ") != std::string::npos ||
                    (!text.empty() &&
                     text.find_last_not_of(" \n\t") != std::string::npos &&
                     text[text.find_last_not_of(" \n\t")] == '.'))) {
          parts.push_back(s);
        }
      }
    }
    return parts;
  }

 private:
  // Per-element data, reached through libxml2's application pointer
  // (`_private` holds index + 1; the tree is ours and freshly parsed, so
  // no other user). A deque keeps references stable while it grows.
  struct NodeData {
    Stats stats;
    double score = 0;
    bool scored = false;
  };
  NodeData* Find(const xmlNode* n) {
    auto i = reinterpret_cast<uintptr_t>(n->_private);
    return i == 0 || i > data_.size() ? nullptr : &data_[i - 1];
  }
  NodeData* DataOf(xmlNode* n) {
    if (NodeData* d = Find(n)) return d;
    data_.emplace_back();
    n->_private = reinterpret_cast<void*>(uintptr_t{data_.size()});
    return &data_.back();
  }

  ExtractFlags flags_;
  std::deque<NodeData> data_;
  std::vector<xmlNode*> candidates_;
};

void PreCleanRec(xmlNode* n, const ExtractFlags& flags, bool protected_ctx,
                 int depth) {
  if (depth > kMaxDepth) return;
  xmlNode* next = nullptr;
  for (xmlNode* c = n->children; c; c = next) {
    next = c->next;
    if (c->type == XML_COMMENT_NODE || c->type == XML_PI_NODE) {
      Remove(c);
      continue;
    }
    if (!IsElement(c)) continue;
    std::string_view name = Name(c);
    if ((IsDroppedElement(c) && name != "iframe") || name == "nav" ||
        name == "aside" || name == "footer" || IsHidden(c)) {
      Remove(c);
      continue;
    }
    bool prot =
        protected_ctx || name == "table" || name == "code" || name == "pre";
    if (flags.strip_unlikely && !protected_ctx && name != "body" &&
        name != "a" && name != "article" && name != "main") {
      NameSignals sig = ClassifyElement(c);
      if ((sig.unlikely && !sig.maybe_content) ||
          (sig.comments && sig.boilerplate)) {
        Remove(c);
        continue;
      }
    }
    PreCleanRec(c, flags, prot, depth + 1);
  }
}

size_t CountNonSpace(std::string_view s) {
  size_t n = 0;
  for (char c : s)
    if (static_cast<unsigned char>(c) > ' ' &&
        (static_cast<unsigned char>(c) & 0xC0) != 0x80)
      ++n;
  return n;
}

void CollectLinkText(const xmlNode* n, std::string* out, int depth) {
  if (depth > kMaxDepth) return;
  for (const xmlNode* c = n->children; c; c = c->next) {
    if (!IsElement(c)) continue;
    if (Name(c) == "a")
      AppendAllText(c, out);
    else
      CollectLinkText(c, out, depth + 1);
  }
}

// Photo captions and credits: page text reads as the article, not as the
// picture descriptions around it.
bool IsCaption(const xmlNode* n, std::string_view name) {
  if (name == "figcaption") return true;
  std::string_view cls = Attr(n, "class");
  return ContainsLower(cls, "caption") || ContainsLower(cls, "credit");
}

// Every terminating/trailer/furniture rule caps its block at 60 words;
// longer blocks (most paragraphs) are not copied or tested at all.
constexpr size_t kShortBlockBytes = 1200;

size_t TextBytes(const xmlNode* n, size_t cap, int depth = 0) {
  if (depth > kMaxDepth) return 0;
  if (IsText(n)) return TextContent(n).size();
  if (!IsElement(n)) return 0;
  size_t total = 0;
  for (const xmlNode* c = n->children; c && total <= cap; c = c->next)
    total += TextBytes(c, cap - total, depth + 1);
  return total;
}

std::string CollapsedText(const xmlNode* n);

// The collapsed text of `n` into *out when its raw text is short enough for
// the block rules; false (nothing copied) otherwise.
bool ShortText(const xmlNode* n, std::string* out) {
  if (TextBytes(n, kShortBlockBytes) > kShortBlockBytes) return false;
  *out = CollapsedText(n);
  return true;
}

std::string CollapsedText(const xmlNode* n) {
  std::string raw;
  AppendAllText(n, &raw);
  TextBuilder tb;
  tb.AddText(raw);
  return tb.Take();
}

class ContentCleaner {
 public:
  ContentCleaner(const std::string& title, const ExtractFlags& flags,
                 bool fragment)
      : title_(title), flags_(flags), fragment_(fragment) {}

  // Post-order: children first, then decide on `n` from its fresh stats.
  // Returns false when `n` was removed.
  bool Clean(xmlNode* n, bool is_root, bool in_figure, int depth, Stats* out) {
    Stats st;
    if (depth > kMaxDepth) return true;
    if (IsText(n)) {
      CountText(TextContent(n), &st);
      out->Add(st);
      return true;
    }
    if (!IsElement(n)) {
      if (n->type == XML_COMMENT_NODE) {
        Remove(n);
        return false;
      }
      return true;
    }
    std::string_view name = Name(n);
    if (!is_root && (IsDroppedElement(n) && name != "iframe")) {
      Remove(n);
      return false;
    }
    NameSignals sig = ClassifyElement(n);
    bool figure = in_figure || name == "figure";
    xmlNode* next = nullptr;
    for (xmlNode* c = n->children; c; c = next) {
      next = c->next;
      Clean(c, false, figure, depth + 1, &st);
    }
    CountOwnElement(n, name, &st);
    if (!is_root && ShouldRemove(n, name, sig, st, figure)) {
      Remove(n);
      return false;
    }
    out->Add(st);
    return true;
  }

 private:
  bool ShouldRemove(xmlNode* n, std::string_view name, const NameSignals& sig,
                    const Stats& st, bool in_figure) {
    if (sig.embed) return false;
    if (sig.comments && !sig.maybe_content) return true;
    if (!fragment_ && IsCaption(n, name) && st.text < 400) return true;
    // An inline card (picture plus a handful of links) inside running text
    // is a hover popup, not prose.
    if (name == "span" && st.img >= 1 && st.a >= 3 && st.LinkDensity() > 0.8)
      return true;
    if (sig.boilerplate && st.text < 500) return true;
    // "Read more" texts are a few words; skip the text copy otherwise.
    if (name == "a" && st.text < 200 && IsReadMoreText(CollapsedText(n)))
      return true;
    std::string_view names_class = Attr(n, "class");
    if ((ContainsLower(names_class, "byline") ||
         ContainsLower(Attr(n, "rel"), "author") ||
         ContainsLower(Attr(n, "itemprop"), "author")) &&
        st.text < 100)
      return true;
    if (IsHeading(name)) {
      if (!fragment_ && name == "h1") return true;
      if (!title_.empty() && CollapsedText(n) == title_) return true;
      if (flags_.weight_classes && sig.weight < 0) return true;
      return false;
    }
    if (fragment_ || !flags_.clean_conditionally) return false;
    bool is_list = name == "ul" || name == "ol";
    bool is_table = name == "table";
    if (!(is_list || is_table || name == "div" || name == "section" ||
          name == "form" || name == "fieldset" || name == "aside"))
      return false;
    if (is_table) {
      // Data tables stay.
      for (xmlNode* c = n->children; c; c = c->next)
        if (IsElement(c) && (Name(c) == "caption" || Name(c) == "thead"))
          return false;
    }
    int weight = flags_.weight_classes ? sig.weight : 0;
    if (weight < 0) return true;
    if (st.commas >= 10) return false;
    double p = st.p;
    double ld = st.LinkDensity();
    double heading_density = st.text > 0 ? double(st.heading) / st.text : 0;
    if (st.img > 1 && p / st.img < 0.5 && !in_figure) return true;
    if (!is_list && st.li - 100 > p) return true;
    if (st.input > std::floor(p / 3)) return true;
    if (!is_list && heading_density < 0.9 && st.text < 25 &&
        (st.img == 0 || st.img > 2) && !in_figure)
      return true;
    if (!is_list && weight < 25 && ld > 0.2) return true;
    if (weight >= 25 && ld > 0.5) return true;
    if ((st.embed == 1 && st.text < 75) || st.embed > 1) return true;
    if (is_list && ld > 0.5) return true;
    return false;
  }

  const std::string& title_;
  ExtractFlags flags_;
  bool fragment_;
};

bool IsLeafBlock(const xmlNode* n) {
  if (!IsElement(n)) return false;
  std::string_view name = Name(n);
  if (!IsBlockElement(name) || name == "br" || name == "hr") return false;
  for (const xmlNode* c = n->children; c; c = c->next)
    if (IsElement(c) && IsBlockElement(Name(c)) && Name(c) != "br")
      return false;
  return true;
}

// Share of `n`'s text that sits inside links (0 when it has no text).
double LinkRatio(const xmlNode* n) {
  std::string all, linked;
  AppendAllText(n, &all);
  CollectLinkText(n, &linked, 0);
  size_t a = CountNonSpace(all);
  return a ? double(CountNonSpace(linked)) / a : 0.0;
}

// Leaf blocks that are furniture, not article text: "DON'T MISS"/"See also"
// link lines, all-caps link-only teasers, copyright lines, "Updated ..."
// datelines.
bool IsFurnitureBlock(const xmlNode* n, std::string_view text, bool fragment) {
  if (IsLeadInBlock(text) && LinkRatio(n) >= 0.4) return true;
  if (IsCopyrightLine(text) || IsDateline(text) || IsPromoLine(text))
    return true;
  if (!fragment && IsByline(text)) return true;
  if (!fragment && IsShouting(text) && LinkRatio(n) >= 0.9) return true;
  return false;
}

// Pre-order over leaf blocks. Removes trailers and furniture; at the first
// terminating block sets *cut and removes it and everything after it.
void Terminate(xmlNode* n, bool fragment, bool* cut, int depth) {
  xmlNode* next = nullptr;
  // A bare "DON'T MISS" / "More Great Stories" label: the link list right
  // after it goes with it.
  xmlNode* label = nullptr;
  for (xmlNode* c = n->children; c; c = next) {
    next = c->next;
    if (*cut) {
      Remove(c);
      continue;
    }
    if (!IsElement(c) || depth > kMaxDepth) continue;
    if (label) {
      xmlNode* l = label;
      label = nullptr;
      if (LinkRatio(c) >= 0.5) {
        Remove(l);
        Remove(c);
        continue;
      }
    }
    if (IsLeafBlock(c)) {
      std::string t;
      if (!ShortText(c, &t)) continue;  // running text: no rule applies
      if (IsTerminatingBlock(t)) {
        *cut = true;
        Remove(c);
      } else if (IsFeedTrailer(t) || IsFurnitureBlock(c, t, fragment)) {
        Remove(c);
      } else if (IsLeadInBlock(t) && CountSpaceSeparated(t) <= 6) {
        label = c;
      }
      continue;
    }
    Terminate(c, fragment, cut, depth + 1);
  }
}

}  // namespace

void PreClean(xmlNode* root, const ExtractFlags& flags) {
  if (root) PreCleanRec(root, flags, false, 0);
}

void CleanContent(const std::vector<xmlNode*>& parts, const std::string& title,
                  const ExtractFlags& flags, bool is_fragment) {
  ContentCleaner cleaner(title, flags, is_fragment);
  for (xmlNode* p : parts) {
    Stats st;
    cleaner.Clean(p, true, false, 0, &st);
  }
  bool cut = false;
  for (xmlNode* p : parts) {
    if (cut) {
      // Later parts follow the terminator: drop their content.
      xmlNode* next = nullptr;
      for (xmlNode* c = p->children; c; c = next) {
        next = c->next;
        Remove(c);
      }
      continue;
    }
    if (IsLeafBlock(p)) {
      std::string t = CollapsedText(p);
      if (IsTerminatingBlock(t)) {
        cut = true;
        xmlNode* next = nullptr;
        for (xmlNode* c = p->children; c; c = next) {
          next = c->next;
          Remove(c);
        }
        continue;
      }
      if (IsFeedTrailer(t) || IsFurnitureBlock(p, t, is_fragment)) {
        xmlNode* next = nullptr;
        for (xmlNode* c = p->children; c; c = next) {
          next = c->next;
          Remove(c);
        }
        continue;
      }
    }
    Terminate(p, is_fragment, &cut, 0);
  }
}

std::vector<xmlNode*> FindMainContent(xmlNode* body,
                                      const ExtractFlags& flags) {
  if (!body) return {};
  Scorer scorer(flags);
  return scorer.Choose(body);
}

}  // namespace newsflow::cleaner
