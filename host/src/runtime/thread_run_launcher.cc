#include "runtime/thread_run_launcher.h"

#include <string>
#include <system_error>
#include <utility>

namespace petit::host {
namespace {

// What the handle and the run's thread share: the handle may outlive the run, or the reverse.
struct RunControl {
  RunCanceller canceller;
};

class ThreadRunHandle final : public RunHandle {
 public:
  explicit ThreadRunHandle(std::shared_ptr<RunControl> control) : control_(std::move(control)) {}
  void Cancel() override { control_->canceller.Cancel(); }

 private:
  const std::shared_ptr<RunControl> control_;
};

}  // namespace

ThreadRunLauncher::ThreadRunLauncher(const TaskRunnerRegistry& runners, StateStore& store,
                                     RunOptions options, EndReporter report_end)
    : runners_(runners),
      store_(store),
      options_(std::move(options)),
      report_end_(std::move(report_end)) {}

ThreadRunLauncher::~ThreadRunLauncher() {
  std::map<uint64_t, std::thread> threads;
  {
    MutexLock lock(mu_);
    threads.swap(threads_);
    finished_.clear();
  }
  for (auto& [key, thread] : threads) thread.join();
}

std::vector<std::thread> ThreadRunLauncher::TakeFinished() {
  std::vector<std::thread> done;
  for (uint64_t key : finished_) {
    auto it = threads_.find(key);
    if (it == threads_.end()) continue;
    done.push_back(std::move(it->second));
    threads_.erase(it);
  }
  finished_.clear();
  return done;
}

Result<std::unique_ptr<RunHandle>> ThreadRunLauncher::Launch(const RunRequest& request,
                                                             RunEndCallback on_end) {
  std::vector<std::thread> finished;
  {
    MutexLock lock(mu_);
    finished = TakeFinished();
  }
  // Their last act was to record themselves as finished: these joins return at once.
  for (std::thread& thread : finished) thread.join();

  auto control = std::make_shared<RunControl>();
  MutexLock lock(mu_);
  const uint64_t key = next_thread_++;
  auto body = [this, key, control, request, on_end = std::move(on_end)] {
    RunOptions options = options_;
    options.trigger = request.trigger;
    options.resume = request.resume.get();
    options.canceller = &control->canceller;
    Result<RunRecord> result = ExecuteRun(*request.job, request.run_id, runners_, store_, options);
    if (report_end_) report_end_(request, result);
    on_end();
    MutexLock done_lock(mu_);
    finished_.push_back(key);
  };
  try {
    threads_.emplace(key, std::thread(std::move(body)));
  } catch (const std::system_error& error) {
    return Unavailable("cannot start a thread for run " + request.run_id.str() + " of job '" +
                       request.job->id.str() + "': " + error.what());
  }
  return std::unique_ptr<RunHandle>(new ThreadRunHandle(std::move(control)));
}

}  // namespace petit::host
