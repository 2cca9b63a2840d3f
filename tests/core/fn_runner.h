// FnRunner: a TaskRunner whose behaviour a test supplies as a function, for tests that run jobs
// through ExecuteRun without plugins. Header-only.
//
// Threads: Run is called on whichever thread runs the attempt; the function must be safe there.
#ifndef PETIT_TESTS_CORE_FN_RUNNER_H_
#define PETIT_TESTS_CORE_FN_RUNNER_H_

#include <functional>
#include <utility>

#include "petit/core/task_runner.h"

namespace petit::testing {

class FnRunner final : public TaskRunner {
 public:
  using Fn = std::function<AttemptResult(const AttemptRequest&, AttemptControl&)>;
  explicit FnRunner(Fn fn) : fn_(std::move(fn)) {}
  AttemptResult Run(const AttemptRequest& request, AttemptControl& control) override {
    return fn_(request, control);
  }

 private:
  Fn fn_;
};

}  // namespace petit::testing

#endif  // PETIT_TESTS_CORE_FN_RUNNER_H_
