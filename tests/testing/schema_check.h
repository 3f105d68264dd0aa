#pragma once

// Validates article JSON against docs/article.schema.json (valijson).
// Test-only helper.

#include <string>

namespace newsflow::testing {

// Returns "" when `json_text` is a valid article, else the validation errors
// (one per line).
std::string ArticleSchemaErrors(const std::string& json_text);

}  // namespace newsflow::testing
