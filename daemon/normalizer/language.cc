#include "daemon/normalizer/language.h"

#include <cld2/public/compact_lang_det.h>
#include <cld2/public/encodings.h>

#include <algorithm>
#include <cctype>
#include <vector>

namespace newsflow {
namespace {

// CLD2 reads at most this much text: enough for a confident answer, and
// bounded for 16 MiB pages.
constexpr size_t kMaxDetectBytes = 32 * 1024;

bool IsAlpha(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalpha(static_cast<unsigned char>(c)) != 0;
  });
}
bool IsAlnum(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0;
  });
}
bool IsDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c)) != 0;
  });
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(c));
  return out;
}
std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(c));
  return out;
}

// `text` cut to at most `max` bytes without splitting a UTF-8 sequence.
std::string_view Prefix(std::string_view text, size_t max) {
  if (text.size() <= max) return text;
  size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80)
    --end;
  return text.substr(0, end);
}

// The writing systems CLD2 recognizes `lang` in (up to four).
std::vector<CLD2::ULScript> Scripts(CLD2::Language lang) {
  std::vector<CLD2::ULScript> out;
  for (int n = 0; n < 4; ++n) {
    CLD2::ULScript s = CLD2::LanguageRecognizedScript(lang, n);
    if (s != CLD2::ULScript_Common) out.push_back(s);
  }
  return out;
}

struct Detection {
  CLD2::Language language = CLD2::UNKNOWN_LANGUAGE;
  std::string tag;  // "" when not confident
};

Detection Detect(std::string_view text) {
  Detection d;
  text = Prefix(text, kMaxDetectBytes);
  if (text.empty()) return d;
  CLD2::CLDHints hints = {nullptr, nullptr, CLD2::UNKNOWN_ENCODING,
                          CLD2::UNKNOWN_LANGUAGE};
  CLD2::Language language3[3];
  int percent3[3];
  double scores3[3];
  int text_bytes = 0;
  bool reliable = false;
  int valid_prefix = 0;
  const CLD2::Language lang = CLD2::ExtDetectLanguageSummaryCheckUTF8(
      text.data(), static_cast<int>(text.size()), /*is_plain_text=*/true,
      &hints, /*flags=*/0, language3, percent3, scores3,
      /*resultchunkvector=*/nullptr, &text_bytes, &reliable, &valid_prefix);
  d.language = lang;
  if (!reliable || text_bytes < kMinDetectBytes ||
      percent3[0] < kMinDetectPercent || lang == CLD2::UNKNOWN_LANGUAGE ||
      lang == CLD2::TG_UNKNOWN_LANGUAGE || language3[0] != lang) {
    return d;
  }
  d.tag = NormalizeLanguageTag(CLD2::LanguageCode(lang));
  return d;
}

}  // namespace

std::string NormalizeLanguageTag(std::string_view value) {
  // First entry of a list; surrounding blanks and quotes off.
  const size_t cut = value.find_first_of(",;");
  if (cut != std::string_view::npos) value = value.substr(0, cut);
  while (!value.empty() &&
         (std::isspace(static_cast<unsigned char>(value.front())) ||
          value.front() == '"' || value.front() == '\''))
    value.remove_prefix(1);
  while (!value.empty() &&
         (std::isspace(static_cast<unsigned char>(value.back())) ||
          value.back() == '"' || value.back() == '\''))
    value.remove_suffix(1);
  if (value.empty() || value.size() > 64) return "";
  std::vector<std::string> parts;
  std::string part;
  for (char c : value) {
    if (c == '-' || c == '_') {
      parts.push_back(std::move(part));
      part.clear();
    } else {
      part.push_back(c);
    }
  }
  parts.push_back(std::move(part));
  // Primary language subtag: 2-3 letters (ISO 639). BCP 47 reserves 4 and
  // 5-8 letters, and no such subtag is registered: "english" is a name.
  const std::string& primary = parts[0];
  if (!IsAlpha(primary) || primary.size() < 2 || primary.size() > 3) {
    return "";
  }
  std::string out = Lower(primary);
  if (out == "und" || out == "mul" || out == "zxx") return "";
  for (size_t i = 1; i < parts.size(); ++i) {
    const std::string& p = parts[i];
    if (!IsAlnum(p) || p.size() > 8) return out;  // keep what is valid
    out.push_back('-');
    if (i == 1 && p.size() == 4 && IsAlpha(p)) {
      out += Upper(p.substr(0, 1)) + Lower(p.substr(1));  // script
    } else if (p.size() == 2 && IsAlpha(p)) {
      out += Upper(p);  // region
    } else if (p.size() == 3 && IsDigits(p)) {
      out += p;  // UN M.49 region
    } else {
      out += Lower(p);
    }
  }
  return out;
}

std::string DetectLanguage(std::string_view text) { return Detect(text).tag; }

std::string ChooseLanguage(std::string_view declared_raw,
                           std::string_view text) {
  const std::string declared = NormalizeLanguageTag(declared_raw);
  const Detection detected = Detect(text);
  if (declared.empty()) return detected.tag;
  if (detected.tag.empty()) return declared;
  // Same primary language: the declaration (it may name the region).
  const std::string primary = declared.substr(0, declared.find('-'));
  if (detected.tag.substr(0, detected.tag.find('-')) == primary) {
    return declared;
  }
  const CLD2::Language declared_lang =
      CLD2::GetLanguageFromName(declared.c_str());
  if (declared_lang == CLD2::UNKNOWN_LANGUAGE) return declared;
  // Implausible: no writing system in common with what the text is in.
  const std::vector<CLD2::ULScript> a = Scripts(declared_lang);
  const std::vector<CLD2::ULScript> b = Scripts(detected.language);
  const bool shared = std::any_of(a.begin(), a.end(), [&](CLD2::ULScript s) {
    return std::find(b.begin(), b.end(), s) != b.end();
  });
  return shared ? declared : detected.tag;
}

}  // namespace newsflow
