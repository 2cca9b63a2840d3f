// TimelineRecorder: collects what a TestHarness needs to build its Timeline. Subscribed to the
// harness's EventBus, it keeps every event in delivery (= publication) order; the harness's run
// observers add the retry time the engine chose for each failed attempt. Build() joins both with
// the attempts the store recorded.
//
// Threads: OnEvent runs on the bus's delivery thread, AddRetry on run coordinators, Build on the
// test's thread after EventBus::Flush; all under mu_.
#ifndef PETIT_TESTING_SRC_TIMELINE_RECORDER_H_
#define PETIT_TESTING_SRC_TIMELINE_RECORDER_H_

#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "petit/core/events.h"
#include "petit/core/mutex.h"
#include "petit/core/state_store.h"
#include "petit/core/thread_annotations.h"
#include "petit/testing/timeline.h"

namespace petit::testing::internal {

// The class of a kTriggerRefused event's reason, from the scheduler's words.
RefusalReason ClassifyRefusal(std::string_view detail);

class TimelineRecorder {
 public:
  void OnEvent(const Event& event) EXCLUDES(mu_);
  void AddRetry(const std::string& run, const std::string& task, uint32_t attempt,
                int64_t retry_at_us) EXCLUDES(mu_);
  // The timeline so far; attempts' details are read from `store`.
  Timeline Build(StateStore& store) EXCLUDES(mu_);

 private:
  using AttemptKey = std::tuple<std::string, std::string, uint32_t>;  // run, task, attempt
  Mutex mu_;
  std::vector<Event> events_ GUARDED_BY(mu_);
  std::map<AttemptKey, int64_t> retry_at_ GUARDED_BY(mu_);
};

}  // namespace petit::testing::internal

#endif  // PETIT_TESTING_SRC_TIMELINE_RECORDER_H_
