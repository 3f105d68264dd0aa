#pragma once

// URL facts shared by the cleaner (links inside articles) and the
// normalizer (canonical article URLs).

#include <string_view>

namespace newsflow {

// True for query parameter names that only track the reader (utm_*,
// fbclid, gclid, mc_cid, ...); compared case-insensitively.
bool IsTrackingParameter(std::string_view name);

}  // namespace newsflow
