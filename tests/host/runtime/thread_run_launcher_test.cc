// ThreadRunLauncher's run threads: which spare thread takes a run, when spare threads go, and the
// stack pages an idle thread gives back (runtime/thread_stack.h).
#include "runtime/thread_run_launcher.h"

#include <alloca.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "core/fn_runner.h"
#include "petit/storage/open.h"
#include "runtime/thread_priority.h"
#include "runtime/thread_stack.h"

namespace petit::host {
namespace {

using namespace std::chrono_literals;
using testing::FnRunner;

// Long enough never to pass on a loaded machine unless something is wrong.
constexpr auto kBrokenAfter = 60s;

// The run ends, as the launcher reports them on the run's thread; a test waits for a number of
// them.
class Ends {
 public:
  void Add() {
    std::lock_guard lock(mu_);
    ++count_;
    threads_.push_back(std::this_thread::get_id());
    cv_.notify_all();
  }
  // The run thread of each run that ended, in the order they ended.
  std::vector<std::thread::id> threads() {
    std::lock_guard lock(mu_);
    return threads_;
  }
  bool WaitFor(int count) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, kBrokenAfter, [&] { return count_ >= count; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int count_ = 0;
  std::vector<std::thread::id> threads_;
};

// The task of every run: holds the run until released.
class Gate {
 public:
  AttemptResult Pass() {
    std::unique_lock lock(mu_);
    ++waiting_;
    cv_.notify_all();
    cv_.wait_for(lock, kBrokenAfter, [&] { return open_; });
    return {AttemptOutcome::kSucceeded, 0, ""};
  }
  bool WaitForWaiting(int count) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, kBrokenAfter, [&] { return waiting_ >= count; });
  }
  void Open() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int waiting_ = 0;
  bool open_ = false;
};

class ThreadRunLauncherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<std::unique_ptr<StateStore>> store = storage::OpenStateStore("memory:");
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    ASSERT_TRUE(runners_
                    .Register("gate", std::make_shared<FnRunner>(
                                          [this](const AttemptRequest&, AttemptControl&) {
                                            return gate_.Pass();
                                          }))
                    .ok());
    auto job = std::make_shared<Job>();
    job->id = JobId("job");
    job->max_active_runs = 0;  // unlimited: the tests start runs side by side
    TaskSpec spec;
    spec.id = TaskId("t");
    spec.name = "t";
    spec.type = "gate";
    job->dag.AddTask(std::move(spec));
    ASSERT_TRUE(job->dag.Validate().ok());
    job_ = std::move(job);
  }

  void MakeLauncher(ThreadRunLauncher::SpareThreads spare) {
    RunOptions options;
    options.max_parallel_tasks = 1;
    options.owner = "test-host";
    launcher_ = std::make_unique<ThreadRunLauncher>(runners_, *store_, options, nullptr, spare);
  }

  // Launches a manual run of job_; `on_end` runs on its run thread once it ended.
  void Launch(std::function<void()> on_end) {
    RunRequest request;
    request.job = job_;
    request.run_id = RunId::Generate();
    request.trigger = "manual";
    Result<std::unique_ptr<RunHandle>> handle = launcher_->Launch(request, std::move(on_end));
    ASSERT_TRUE(handle.ok()) << handle.status().ToString();
    handles_.push_back(std::move(handle).value());
  }
  void Launch() {
    Launch([this] { ends_.Add(); });
  }
  // Launches a run and returns the niceness of its run thread, once the run ended.
  int LaunchAndSeeTheRunThreadsNiceness() {
    std::atomic<int> seen{-100};
    Launch([&] {
      seen = ThreadNiceness();
      ends_.Add();
    });
    EXPECT_TRUE(ends_.WaitFor(static_cast<int>(handles_.size())));
    return seen;
  }

  std::unique_ptr<StateStore> store_;
  TaskRunnerRegistry runners_;
  std::shared_ptr<const Job> job_;
  Gate gate_;
  Ends ends_;
  std::vector<std::unique_ptr<RunHandle>> handles_;
  std::unique_ptr<ThreadRunLauncher> launcher_;  // declared last: its threads end first
};

TEST_F(ThreadRunLauncherTest, AfterABurstOneSpareThreadTakesEveryRunAndTheRestStayIdle) {
  MakeLauncher({.stack_release_delay = 1h, .lifetime = 1h});
  // Three runs at once: three threads.
  for (int i = 0; i < 3; ++i) ASSERT_NO_FATAL_FAILURE(Launch());
  ASSERT_TRUE(gate_.WaitForWaiting(3));
  gate_.Open();
  ASSERT_TRUE(ends_.WaitFor(3));
  ASSERT_TRUE(launcher_->WaitForThreads({.threads = 3, .idle = 3}, kBrokenAfter));
  const std::vector<std::thread::id> first = ends_.threads();
  const std::set<std::thread::id> burst(first.begin(), first.end());
  ASSERT_EQ(burst.size(), 3u);

  // Then one run at a time: the thread that went idle last takes the next, every time, so the
  // other two are never woken (and would go once their lifetime passed).
  for (int i = 0; i < 12; ++i) {
    ASSERT_NO_FATAL_FAILURE(Launch());
    ASSERT_TRUE(ends_.WaitFor(4 + i));
    ASSERT_TRUE(launcher_->WaitForThreads({.threads = 3, .idle = 3}, kBrokenAfter));
  }
  const std::vector<std::thread::id> ran = ends_.threads();
  ASSERT_EQ(ran.size(), 15u);
  const std::set<std::thread::id> sequential(ran.begin() + 3, ran.end());
  EXPECT_EQ(sequential.size(), 1u) << "one run at a time went to several spare threads";
  EXPECT_TRUE(burst.contains(*sequential.begin())) << "a new thread was made with three spare";
}

TEST_F(ThreadRunLauncherTest, SpareThreadsExitOnceTheirLifetimeHasPassed) {
  MakeLauncher({.stack_release_delay = 0ms, .lifetime = 0ms});
  gate_.Open();
  for (int i = 0; i < 2; ++i) ASSERT_NO_FATAL_FAILURE(Launch());
  ASSERT_TRUE(ends_.WaitFor(2));
  EXPECT_TRUE(launcher_->WaitForThreads({.threads = 0, .idle = 0}, kBrokenAfter))
      << launcher_->thread_counts().threads << " run threads still alive";
  // A run after they went starts a thread of its own.
  ASSERT_NO_FATAL_FAILURE(Launch());
  ASSERT_TRUE(ends_.WaitFor(3));
  EXPECT_TRUE(launcher_->WaitForThreads({.threads = 0, .idle = 0}, kBrokenAfter));
}

TEST_F(ThreadRunLauncherTest, AThreadThatReleasedItsStackStillRunsTheNextRun) {
  // Spare threads give their stack back at once and then wait an hour.
  MakeLauncher({.stack_release_delay = 0ms, .lifetime = 1h});
  gate_.Open();
  ASSERT_NO_FATAL_FAILURE(Launch());
  ASSERT_TRUE(ends_.WaitFor(1));
  ASSERT_TRUE(launcher_->WaitForThreads({.threads = 1, .idle = 1}, kBrokenAfter));
  for (int i = 0; i < 5; ++i) {
    ASSERT_NO_FATAL_FAILURE(Launch());
    ASSERT_TRUE(ends_.WaitFor(2 + i));
    ASSERT_TRUE(launcher_->WaitForThreads({.threads = 1, .idle = 1}, kBrokenAfter));
  }
  const std::vector<std::thread::id> ran = ends_.threads();
  EXPECT_EQ(std::set<std::thread::id>(ran.begin(), ran.end()).size(), 1u);
}

TEST_F(ThreadRunLauncherTest, RunThreadsTakeTheNicenessOfTheThreadThatMadeTheLauncher) {
  // Made on a thread at niceness 3; the runs are launched from this one (at the test's niceness).
  std::thread([this] {
    setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), 3);
    MakeLauncher({.stack_release_delay = 1h, .lifetime = 1h});
  }).join();
  gate_.Open();
  EXPECT_EQ(LaunchAndSeeTheRunThreadsNiceness(), 3);
}

// An API thread runs five above the daemon and, without privilege, no thread can lower its own
// niceness: a run launched from it must not run (nor start workers and tasks) at the API's.
TEST_F(ThreadRunLauncherTest, ARunLaunchedFromANicerThreadRunsAtTheLaunchersNiceness) {
  MakeLauncher({.stack_release_delay = 1h, .lifetime = 1h});
  const int base = ThreadNiceness();
  gate_.Open();
  int seen = -1;
  std::thread([&] {
    setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), std::min(base + 5, 19));
    seen = LaunchAndSeeTheRunThreadsNiceness();
  }).join();
  EXPECT_EQ(seen, base);
}

// Pages of [begin, end) resident, by mincore.
size_t ResidentPages(uintptr_t begin, uintptr_t end) {
  const auto page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  begin &= ~(page - 1);
  std::vector<unsigned char> residency((end - begin + page - 1) / page);
  if (mincore(reinterpret_cast<void*>(begin), end - begin, residency.data()) != 0) return 0;
  size_t resident = 0;
  for (unsigned char flags : residency) resident += flags & 1;
  return resident;
}

// Touches `bytes` of stack below the caller's frame; returns the lowest address touched.
[[gnu::noinline]] uintptr_t GoDeep(size_t bytes) {
  volatile char* deep = static_cast<volatile char*>(alloca(bytes));
  for (size_t i = 0; i < bytes; i += 512) deep[i] = static_cast<char>(i);
  return reinterpret_cast<uintptr_t>(deep);
}

TEST(ReleaseUnusedStackTest, DropsThePagesBelowTheFrameAndKeepsTheOnesInUse) {
  std::thread([] {
    const auto frame = reinterpret_cast<uintptr_t>(__builtin_frame_address(0));
    const uintptr_t lowest = GoDeep(1 << 20);
    const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    const uintptr_t margin_end = frame - kKeptStackBelowFrame - 2 * page;
    ASSERT_GT(ResidentPages(lowest, margin_end), (512u << 10) / page)
        << "the deep call did not make its stack resident";

    const size_t released = ReleaseUnusedStack();
    EXPECT_GE(released, (1u << 20) - kKeptStackBelowFrame);
    EXPECT_EQ(ResidentPages(lowest, margin_end), 0u);
    // The frames in use are untouched, and the stack works as before when it goes deep again.
    volatile int here = 7;
    EXPECT_EQ(here, 7);
    EXPECT_GT(GoDeep(256 << 10), 0u);
  }).join();
}

}  // namespace
}  // namespace petit::host
