// Name tables for the enums core persists and parses, so every Parse* function reports the same
// way.
#ifndef PETIT_CORE_SRC_ENUM_NAMES_H_
#define PETIT_CORE_SRC_ENUM_NAMES_H_

#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "petit/core/status.h"
#include "petit/core/suggest.h"

namespace petit::internal {

template <typename Enum, size_t N>
using EnumNames = std::array<std::pair<Enum, std::string_view>, N>;

template <typename Enum, size_t N>
std::string_view NameOf(const EnumNames<Enum, N>& names, Enum value) {
  for (const auto& [candidate, name] : names) {
    if (candidate == value) return name;
  }
  return "unknown";
}

// The error names `what` ("retry condition"), lists every accepted spelling and offers the one
// meant when it is plain ("all-success", "ALL_DONE", "alwyas", "transient"). No guess from a
// typo of three edits: Airflow's one_success is not all_success.
template <typename Enum, size_t N>
Result<Enum> ParseName(const EnumNames<Enum, N>& names, std::string_view text,
                       std::string_view what) {
  for (const auto& [value, name] : names) {
    if (name == text) return value;
  }
  std::string message = "unknown " + std::string(what) + " '" + std::string(text) + "' (expected ";
  for (size_t i = 0; i < N; ++i) {
    if (i > 0) message += i + 1 == N ? " or " : ", ";
    message += names[i].second;
  }
  message += ")";
  std::vector<std::string_view> spellings;
  for (const auto& [value, name] : names) spellings.push_back(name);
  std::optional<NameGuess> guess = GuessName(text, spellings);
  const bool plain = guess && (guess->kind != GuessKind::kTypo || guess->distance <= 2);
  if (plain) message += "; did you mean '" + guess->name + "'?";
  return InvalidArgument(std::move(message));
}

}  // namespace petit::internal

#endif  // PETIT_CORE_SRC_ENUM_NAMES_H_
