#include "daemon/core/url.h"

#include <algorithm>
#include <array>
#include <string>

#include "daemon/core/text_util.h"

namespace newsflow {

bool IsTrackingParameter(std::string_view name) {
  // Click ids of ad networks and mail/CRM tools; "__s" is Drip's.
  static constexpr std::array<std::string_view, 19> kExact = {
      "fbclid", "gclid",   "dclid",       "gclsrc",     "msclkid",
      "mc_cid", "mc_eid",  "igshid",      "yclid",      "_hsenc",
      "_hsmi",  "mkt_tok", "oly_anon_id", "oly_enc_id", "rb_clickid",
      "wt_mc",  "vero_id", "wickedid",    "__s"};
  const std::string lower = ToLowerAscii(name);
  if (lower.rfind("utm_", 0) == 0) return true;
  return std::find(kExact.begin(), kExact.end(), lower) != kExact.end();
}

}  // namespace newsflow
