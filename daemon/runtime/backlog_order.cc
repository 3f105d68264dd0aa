#include "daemon/runtime/backlog_order.h"

#include <algorithm>
#include <numeric>
#include <optional>

namespace newsflow {

std::vector<size_t> NewestFirstOrder(const std::vector<FeedItem>& items) {
  std::vector<size_t> order(items.size());
  std::iota(order.begin(), order.end(), size_t{0});
  auto date = [&items](size_t i) -> std::optional<TimePoint> {
    return items[i].published ? items[i].published : items[i].updated;
  };
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const std::optional<TimePoint> da = date(a);
    const std::optional<TimePoint> db = date(b);
    if (!da || !db) return da.has_value() && !db.has_value();
    return *da > *db;
  });
  return order;
}

}  // namespace newsflow
