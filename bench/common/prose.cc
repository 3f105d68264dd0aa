#include "bench/common/prose.h"

namespace newsflow::bench {

std::string Prose(size_t bytes, unsigned seed) {
  static const char* kWords[] = {
      "the",    "of",      "and",       "to",    "in",        "a",
      "said",   "council", "minister",  "on",    "for",       "was",
      "with",   "harbour", "market",    "year",  "people",    "city",
      "after",  "report",  "two",       "new",   "officials", "week",
      "budget", "border",  "engineers", "river", "station",   "season"};
  std::string s;
  unsigned state = seed * 2654435761u + 1;
  while (s.size() < bytes) {
    state = state * 1103515245u + 12345u;
    s += kWords[(state >> 16) % (sizeof(kWords) / sizeof(kWords[0]))];
    s += (state >> 8) % 19 == 0 ? ". " : " ";
  }
  return s;
}

}  // namespace newsflow::bench
