#include "petit/core/suggest.h"

#include <algorithm>
#include <cstddef>
#include <limits>

namespace petit {
namespace {

// The most edits a suggestion may be away from the word (see the header).
constexpr size_t kMaxSuggestionDistance = 3;

size_t AllowedDistance(std::string_view word) {
  return std::clamp<size_t>(word.size() / 3, 1, kMaxSuggestionDistance);
}

// Levenshtein distance of `a` and `b` when it is at most `limit`, otherwise any value above
// `limit`. Only the diagonal band |i - j| <= limit can hold such a distance, so the cost is
// O(|a| * limit) instead of O(|a| * |b|), and it stops as soon as a whole row exceeds `limit`:
// a megabyte-long name answers in microseconds.
size_t BoundedEditDistance(std::string_view a, std::string_view b, size_t limit) {
  const size_t longer = std::max(a.size(), b.size());
  const size_t shorter = std::min(a.size(), b.size());
  if (longer - shorter > limit) return limit + 1;
  const size_t over = limit + 1;
  std::vector<size_t> row(b.size() + 1, over);
  for (size_t j = 0; j <= std::min(b.size(), limit); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    const size_t first = i > limit ? i - limit : 1;
    const size_t last = std::min(b.size(), i + limit);
    size_t diagonal = row[first - 1];
    row[first - 1] = first == 1 && i <= limit ? i : over;
    size_t row_min = row[first - 1];
    for (size_t j = first; j <= last; ++j) {
      const size_t above = row[j];
      const size_t cost = diagonal + (a[i - 1] == b[j - 1] ? 0 : 1);
      row[j] = std::min({above + 1, row[j - 1] + 1, cost, over});
      diagonal = above;
      row_min = std::min(row_min, row[j]);
    }
    if (row_min > limit) return over;
  }
  return row[b.size()];
}

}  // namespace

std::optional<std::string> ClosestMatch(std::string_view word,
                                        const std::vector<std::string_view>& candidates) {
  if (word.size() > kMaxSuggestedWordBytes) return std::nullopt;
  const size_t allowed = AllowedDistance(word);
  std::optional<std::string> best;
  size_t best_distance = std::numeric_limits<size_t>::max();
  for (std::string_view candidate : candidates) {
    const size_t limit = std::min(allowed, best_distance == 0 ? 0 : best_distance - 1);
    const size_t distance = BoundedEditDistance(word, candidate, limit);
    if (distance <= limit) {
      best_distance = distance;
      best = std::string(candidate);
      if (distance == 0) break;
    }
  }
  return best;
}

}  // namespace petit
