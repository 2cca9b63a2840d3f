#include "occurrences.h"

#include <algorithm>

namespace petit::internal {
namespace {

constexpr int64_t kMicrosPerSecond = 1'000'000;

bool FiresWithin(const Schedule& schedule, int64_t after_us, int64_t until_us) {
  std::optional<int64_t> next = schedule.NextAfter(after_us);
  return next && *next <= until_us;
}

}  // namespace

std::optional<int64_t> LatestOccurrence(const Schedule& schedule, int64_t after_us,
                                        int64_t until_us) {
  if (until_us <= after_us || !FiresWithin(schedule, after_us, until_us)) return std::nullopt;
  // Invariant: some occurrence lies in (lo, until_us] and none in (hi, until_us]. Widen the
  // window backwards by doubling until it holds one, then bisect: both take O(log span) steps,
  // whatever the number of occurrences in between.
  int64_t lo = after_us;
  int64_t hi = until_us;
  for (int64_t span = kMicrosPerSecond; span < until_us - after_us; span *= 2) {
    const int64_t start = until_us - span;
    if (FiresWithin(schedule, start, until_us)) {
      lo = start;
      break;
    }
    hi = start;
  }
  while (hi - lo > 1) {
    const int64_t mid = lo + (hi - lo) / 2;
    if (FiresWithin(schedule, mid, until_us)) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  return schedule.NextAfter(lo);
}

std::vector<int64_t> LatestOccurrences(const Schedule& schedule, int64_t after_us, int64_t until_us,
                                       size_t count) {
  std::vector<int64_t> times;
  int64_t until = until_us;
  while (times.size() < count) {
    std::optional<int64_t> latest = LatestOccurrence(schedule, after_us, until);
    if (!latest) break;
    times.push_back(*latest);
    until = *latest - 1;
  }
  std::reverse(times.begin(), times.end());
  return times;
}

}  // namespace petit::internal
