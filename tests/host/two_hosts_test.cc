// Two hosts on one store, without the single-host lock: each "host" is a Scheduler with its own
// store object on the same database, its own ThreadRunLauncher and the real builtin plugin, both
// on one ManualClock. Only the store's admission (StateStore::AdmitRun) stands between them, and
// it must keep every schedule occurrence to one run and max_concurrency to its limit.
//
// Nothing sleeps: the launchers' end reports and the event buses signal a condition variable, and
// kPatience only bounds how long a broken build makes the test wait.
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/job_loader.h"
#include "petit/core/clock.h"
#include "petit/core/events.h"
#include "petit/core/scheduler.h"
#include "petit/storage/open.h"
#include "runtime/host_env.h"
#include "runtime/thread_run_launcher.h"
#include "storage_backends/test_databases.h"

namespace petit::host {
namespace {

using ::testing::HasSubstr;

constexpr int64_t kSecond = 1'000'000;
constexpr int64_t kBase = 1767225600 * kSecond;  // 2026-01-01T00:00:00Z
constexpr auto kPatience = std::chrono::seconds(60);

enum class Backend { kSqlite, kPostgresql };

std::string BackendName(const ::testing::TestParamInfo<Backend>& info) {
  return info.param == Backend::kSqlite ? "Sqlite" : "Postgresql";
}

// What both hosts saw: runs ended and triggers refused, with the refusals' reasons.
class Tally {
 public:
  void RunEnded(const Result<RunRecord>& result) {
    std::lock_guard lock(mu_);
    if (!result.ok()) failures_.push_back(result.status().ToString());
    ++ended_;
    cv_.notify_all();
  }
  void Refused(const std::string& detail) {
    std::lock_guard lock(mu_);
    refusals_.push_back(detail);
    cv_.notify_all();
  }
  bool WaitFor(size_t ended, size_t refused) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, kPatience,
                        [&] { return ended_ >= ended && refusals_.size() >= refused; });
  }
  std::vector<std::string> refusals() {
    std::lock_guard lock(mu_);
    return refusals_;
  }
  std::vector<std::string> failures() {
    std::lock_guard lock(mu_);
    return failures_;
  }
  size_t ended() {
    std::lock_guard lock(mu_);
    return ended_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  size_t ended_ = 0;
  std::vector<std::string> refusals_;
  std::vector<std::string> failures_;
};

// One host: its environment (store and plugins), event bus, launcher and scheduler.
class Host {
 public:
  Host(const std::string& storage_uri, const std::string& owner, std::vector<Job> jobs,
       Clock& clock, Tally& tally) {
    HostOptions options;
    options.storage_uri = storage_uri;
    options.plugin_dirs = {PETIT_PLUGIN_DIR};
    Result<std::unique_ptr<HostEnv>> env = HostEnv::Create(options);
    EXPECT_TRUE(env.ok()) << env.status().ToString();
    if (!env.ok()) return;
    env_ = std::move(env).value();
    env_->LoadPlugins();
    Result<StateStore*> store = env_->Store();
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    if (!store.ok()) return;
    events_.Subscribe([&tally](const Event& event) {
      if (event.type == EventType::kTriggerRefused) tally.Refused(event.detail);
    });
    RunOptions run_options;
    run_options.owner = owner;
    run_options.clock = &clock;
    run_options.max_parallel_tasks = 2;
    launcher_ = std::make_unique<ThreadRunLauncher>(
        env_->runners(), **store, run_options,
        [&tally](const RunRequest&, const Result<RunRecord>& result) { tally.RunEnded(result); });
    std::vector<std::shared_ptr<const Job>> shared;
    for (Job& job : jobs) shared.push_back(std::make_shared<const Job>(std::move(job)));
    scheduler_ =
        std::make_unique<Scheduler>(std::move(shared), clock, **store, *launcher_, &events_);
  }

  ~Host() {
    if (scheduler_ != nullptr) scheduler_->Stop(StopMode::kWaitForRuns);
  }

  Scheduler& scheduler() { return *scheduler_; }
  bool ready() const { return scheduler_ != nullptr; }

 private:
  std::unique_ptr<HostEnv> env_;
  EventBus events_;
  std::unique_ptr<ThreadRunLauncher> launcher_;
  std::unique_ptr<Scheduler> scheduler_;  // declared last: stopped before the rest goes
};

std::vector<Job> Jobs(const std::string& yaml) {
  JobLoaderOptions options;
  LoadedJobs loaded = LoadJobFromString(yaml, "test.yaml", options);
  EXPECT_TRUE(loaded.errors.empty()) << loaded.errors.front().ToString();
  return std::move(loaded.jobs);
}

constexpr const char* kEverySecond = R"(
id: tick
schedule: "* * * * * *"
tasks:
  - id: a
    type: noop
)";

class TwoHostsTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (GetParam() == Backend::kSqlite) {
      dir_ = std::make_unique<testing::TempDir>();
      uri_ = "sqlite://" + dir_->path() + "/petit.db";
      return;
    }
    PETIT_REQUIRE_POSTGRES();
    Result<std::unique_ptr<testing::ScratchPostgresDatabase>> database =
        testing::ScratchPostgresDatabase::Create(*testing::PostgresServerUri());
    ASSERT_TRUE(database.ok()) << database.status().ToString();
    database_ = std::move(database).value();
    uri_ = database_->uri();
  }

  std::vector<RunRecord> Runs(const std::string& job) {
    Result<std::unique_ptr<StateStore>> store = storage::OpenStateStore(uri_);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    if (!store.ok()) return {};
    Result<std::vector<RunRecord>> runs = (*store)->ListRuns(JobId(job), 1000);
    EXPECT_TRUE(runs.ok()) << runs.status().ToString();
    return runs.ok() ? *runs : std::vector<RunRecord>{};
  }

  std::string uri_;
  std::unique_ptr<testing::TempDir> dir_;
  std::unique_ptr<testing::ScratchPostgresDatabase> database_;
};

TEST_P(TwoHostsTest, EachOccurrenceRunsOnceWhenTwoHostsFireIt) {
  constexpr int kOccurrences = 8;
  ManualClock clock(kBase);
  Tally tally;
  // No run limit: only the occurrence's unique key keeps the second host from running it.
  std::vector<Job> jobs_a = Jobs(kEverySecond);
  std::vector<Job> jobs_b = Jobs(kEverySecond);
  ASSERT_EQ(jobs_a.size(), 1u);
  ASSERT_EQ(jobs_b.size(), 1u);
  jobs_a[0].max_active_runs = 0;
  jobs_b[0].max_active_runs = 0;
  {
    Host a(uri_, "host-a/1/1", std::move(jobs_a), clock, tally);
    Host b(uri_, "host-b/2/2", std::move(jobs_b), clock, tally);
    ASSERT_TRUE(a.ready() && b.ready());
    ASSERT_TRUE(a.scheduler().Start().ok());
    ASSERT_TRUE(b.scheduler().Start().ok());
    for (int k = 1; k <= kOccurrences; ++k) {
      clock.Advance(kSecond);
      // Both hosts fire it: one runs it, the other is refused.
      ASSERT_TRUE(tally.WaitFor(k, k)) << "occurrence " << k << ": " << tally.ended()
                                       << " runs ended, " << tally.refusals().size() << " refused";
    }
  }
  EXPECT_THAT(tally.failures(), ::testing::IsEmpty());
  EXPECT_EQ(tally.ended(), static_cast<size_t>(kOccurrences));
  std::vector<std::string> refusals = tally.refusals();
  ASSERT_EQ(refusals.size(), static_cast<size_t>(kOccurrences));
  for (const std::string& refusal : refusals) {
    EXPECT_THAT(refusal, HasSubstr("refused: occurrence already created by host-"));
  }
  std::vector<RunRecord> runs = Runs("tick");
  ASSERT_EQ(runs.size(), static_cast<size_t>(kOccurrences));
  std::set<int64_t> occurrences;
  for (const RunRecord& run : runs) {
    EXPECT_EQ(run.status, RunStatus::kSucceeded) << run.id.str() << " " << run.error;
    EXPECT_EQ(run.trigger, "schedule");
    occurrences.insert(run.occurrence_us);
  }
  std::set<int64_t> expected;
  for (int k = 1; k <= kOccurrences; ++k) expected.insert(kBase + k * kSecond);
  EXPECT_EQ(occurrences, expected);
}

INSTANTIATE_TEST_SUITE_P(SqlStores, TwoHostsTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgresql), BackendName);

}  // namespace
}  // namespace petit::host
