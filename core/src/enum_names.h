// Name tables for the enums core persists and parses, so every Parse* function reports the same
// way.
#ifndef PETIT_CORE_SRC_ENUM_NAMES_H_
#define PETIT_CORE_SRC_ENUM_NAMES_H_

#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

#include "petit/core/status.h"

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

// The error names `what` ("retry condition") and lists every accepted spelling.
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
  return InvalidArgument(std::move(message));
}

}  // namespace petit::internal

#endif  // PETIT_CORE_SRC_ENUM_NAMES_H_
