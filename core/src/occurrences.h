// Searching a Schedule backwards, which Schedule itself does not offer: the scheduler needs the
// latest occurrence at or before a time (catch-up, a clock that jumped forward) without walking
// every occurrence since the last one it dealt with (a month down with `@every 1s` is 2.6 million
// of them).
#ifndef PETIT_CORE_SRC_OCCURRENCES_H_
#define PETIT_CORE_SRC_OCCURRENCES_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "petit/core/schedule.h"

namespace petit::internal {

// The latest fire time t of `schedule` with after_us < t <= until_us; nullopt if there is none.
// O(log(until_us - after_us)) calls of NextAfter.
std::optional<int64_t> LatestOccurrence(const Schedule& schedule, int64_t after_us,
                                        int64_t until_us);

// The latest `count` fire times in (after_us, until_us], ascending (fewer when there are fewer).
std::vector<int64_t> LatestOccurrences(const Schedule& schedule, int64_t after_us, int64_t until_us,
                                       size_t count);

}  // namespace petit::internal

#endif  // PETIT_CORE_SRC_OCCURRENCES_H_
