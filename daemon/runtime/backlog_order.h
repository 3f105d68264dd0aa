#pragma once

// The order in which a feed's very first poll meets its items when
// pipeline.first_poll_backlog limits what it publishes: the limit keeps the
// newest stories, whatever order the feed lists them in.

#include <cstddef>
#include <vector>

#include "daemon/core/feed_item.h"

namespace newsflow {

// Indexes into `items`, newest first: by `published`, else `updated`,
// descending; items with neither come after every dated item. Equal dates
// (and undated items) keep document order. Pure; any thread.
std::vector<size_t> NewestFirstOrder(const std::vector<FeedItem>& items);

}  // namespace newsflow
