// Metrics: what GET /metrics serves, in the Prometheus text exposition format 0.0.4.
//
// A small registry of our own (no client library): counters, gauges and histograms with fixed
// buckets in seconds. Two sources feed it:
// - the Daemon's EventBus (core/events.h): runs started and finished, run and task durations,
//   retries, queue waits, schedule delays and last successes are counted as events arrive, on the
//   bus's delivery thread, each in a few map look-ups under one mutex (a handler must be cheap);
// - the Daemon itself, read at scrape time: scheduler pause, active runs, each job's pause and
//   next fire time, pool slots, store health, dropped events, and /proc/self for the process.
//
// Label sets are bounded: job ids and task types come from the loaded jobs, statuses and
// triggers from fixed lists, pools from petit.yaml; never a run id or a task instance. The
// series of a job that a reload removed are dropped at the next scrape. The label is `job_id`,
// not `job`, because Prometheus attaches its own `job` label (the scrape job) to every series and
// would rename ours to `exported_job`; likewise the task type's label is `task_type`.
//
// Each job's last success is seeded from the store (StateStore::LastRun) when the job is first
// seen (for the jobs loaded at start, by the constructor; for jobs a reload added, by the next
// scrape, once), then kept from events: no scrape queries the store otherwise.
//
// Ownership: borrows the Daemon, which must outlive it. Threads: Render may be called from any
// thread, several at once; it holds the mutex while it writes (about 2 ms for 1,000 jobs), and
// the events meanwhile wait in the bus's queue, never in the engine. The constructor subscribes
// to daemon.events() and the destructor unsubscribes (after it returns the handler is never
// called again).
#ifndef PETIT_HOST_API_METRICS_H_
#define PETIT_HOST_API_METRICS_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "petit/core/events.h"
#include "petit/core/ids.h"
#include "petit/core/job.h"
#include "petit/core/mutex.h"
#include "petit/core/thread_annotations.h"

namespace petit::host {

class DaemonApi;

// The pieces of the text format, public so that tests can check them on any input.
namespace metrics_text {

inline constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

// A label value as the text format wants it: backslash, double quote and line feed escaped
// (\\, \", \n); everything else, UTF-8 included, as it is.
std::string EscapeLabelValue(std::string_view value);
// HELP text: backslash and line feed escaped.
std::string EscapeHelp(std::string_view text);
// `name="value"` with the value escaped.
std::string LabelPair(std::string_view name, std::string_view value);

// Appends a sample value: integral values without a fraction, others in the shortest form that
// reads back exactly; +Inf, -Inf and NaN as the format spells them.
void AppendValue(std::string& out, double value);
void AppendValue(std::string& out, uint64_t value);
// `# HELP name help` and `# TYPE name type` lines.
void AppendHeader(std::string& out, std::string_view name, std::string_view type,
                  std::string_view help);
// `name{labels} value` (or `name value` when labels is empty); labels as LabelPair joins them.
void AppendSample(std::string& out, std::string_view name, std::string_view labels, double value);
void AppendSample(std::string& out, std::string_view name, std::string_view labels, uint64_t value);

// The upper bounds of a histogram's buckets (ascending; +Inf is implied), with their `le` labels
// formatted once.
class Buckets {
 public:
  explicit Buckets(std::vector<double> bounds);
  const std::vector<double>& bounds() const { return bounds_; }
  // `le="0.5"`, ..., `le="+Inf"`: one more than bounds().
  const std::vector<std::string>& le_labels() const { return le_labels_; }

 private:
  std::vector<double> bounds_;
  std::vector<std::string> le_labels_;
};

// A histogram over fixed buckets, which it borrows (they are static).
class Histogram {
 public:
  explicit Histogram(const Buckets& buckets);
  void Observe(double value);
  uint64_t count() const { return count_; }
  double sum() const { return sum_; }
  // The `name_bucket{labels,le="..."}` lines (cumulative), then `name_sum` and `name_count`.
  void Append(std::string& out, std::string_view name, std::string_view labels) const;

 private:
  // The bucket lines, each `prefix` (`name_bucket{labels,`) then `le="..."} count`.
  void AppendBuckets(std::string& out, std::string_view prefix) const;

  const Buckets* buckets_;
  std::vector<uint64_t> counts_;  // per bucket, not cumulative; the last one is +Inf
  double sum_ = 0;
  uint64_t count_ = 0;
};

}  // namespace metrics_text

// The process as /proc/self and getrlimit describe it (process_* metrics); fields not readable
// stay nullopt and are left out of the output.
struct ProcessStats {
  std::optional<double> cpu_seconds;
  std::optional<uint64_t> resident_bytes;
  std::optional<uint64_t> virtual_bytes;
  std::optional<uint64_t> open_fds;
  std::optional<uint64_t> max_fds;
  std::optional<double> start_time_seconds;  // since the Unix epoch
};
ProcessStats ReadProcessStats();

class Metrics {
 public:
  // Subscribes to daemon.events() and seeds each job's last success from the store.
  explicit Metrics(DaemonApi& daemon);
  ~Metrics();

  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // The whole exposition, families in a fixed order, jobs sorted by id.
  std::string Render() EXCLUDES(mu_);

  // The triggers, run statuses and task statuses counted: fixed lists, so labels stay bounded
  // ("other" takes a trigger not listed).
  static constexpr std::array<std::string_view, 6> kTriggers = {"schedule", "catch_up", "manual",
                                                                "retry",    "recovery", "other"};
  static constexpr std::array<std::string_view, 4> kRunStatuses = {"succeeded", "failed",
                                                                   "cancelled", "interrupted"};
  static constexpr std::array<std::string_view, 4> kTaskStatuses = {"succeeded", "failed",
                                                                    "cancelled", "skipped"};

 private:
  struct JobSeries {
    std::string label;  // job_id="..." escaped
    std::shared_ptr<const Job> definition;
    // Task id -> index in type_labels_; kept across redefinitions so that a run started before a
    // reload still finds its tasks' types.
    std::unordered_map<TaskId, size_t> task_types;
    std::array<uint64_t, kTriggers.size()> runs_started{};
    std::array<uint64_t, kRunStatuses.size()> runs_finished{};
    std::optional<metrics_text::Histogram> run_duration;
    std::array<uint64_t, kTaskStatuses.size()> tasks_finished{};
    std::map<size_t, metrics_text::Histogram> task_duration;  // by type index
    uint64_t task_retries = 0;
    uint64_t runs_refused = 0;
    int64_t last_success_us = 0;  // 0: none known
    bool seeded = false;          // the store has been asked for the last success
  };
  // An attempt of a task in a run that has not ended yet.
  struct AttemptTimes {
    uint32_t attempt = 0;
    int64_t queued_us = 0;
    int64_t started_us = 0;
  };
  struct RunTimes {
    int64_t started_us = 0;
    std::unordered_map<TaskId, AttemptTimes> tasks;
  };

  void OnEvent(const Event& event) EXCLUDES(mu_);
  // The job's series, created from the daemon's definition when missing; null when the daemon
  // no longer has the job (its series were dropped by a reload).
  JobSeries* Series(const JobId& job) REQUIRES(mu_);
  void Define(JobSeries& series, std::shared_ptr<const Job> definition) REQUIRES(mu_);
  size_t TypeIndex(const std::string& type) REQUIRES(mu_);
  // Task duration of the attempt that ended with `event`, if its start was seen.
  void AttemptEnded(JobSeries& series, RunTimes& run, const Event& event) REQUIRES(mu_);
  // Brings the series in line with the daemon's jobs (a reload adds and removes jobs) and seeds
  // the last success of jobs not seen before from the store.
  void Sync() EXCLUDES(mu_);

  DaemonApi& daemon_;
  const std::string build_info_labels_;

  Mutex mu_;
  std::map<JobId, JobSeries> jobs_ GUARDED_BY(mu_);
  // The daemon's jobs as the last Sync saw them: an unchanged list skips the reconciliation.
  std::vector<std::shared_ptr<const Job>> synced_ GUARDED_BY(mu_);
  std::vector<std::string> type_labels_ GUARDED_BY(mu_);  // task_type="..." escaped
  std::unordered_map<std::string, size_t> type_index_ GUARDED_BY(mu_);
  // Runs in progress, by id; UUIDv7 ids sort by start, so past kMaxTrackedRuns (events of their
  // ends were dropped) the oldest go first.
  std::map<RunId, RunTimes> runs_ GUARDED_BY(mu_);
  metrics_text::Histogram schedule_delay_ GUARDED_BY(mu_);
  metrics_text::Histogram queue_wait_ GUARDED_BY(mu_);

  EventBus::HandlerId subscription_ = 0;
  std::atomic<size_t> last_size_{0};  // of the latest exposition, to reserve the next one
};

}  // namespace petit::host

#endif  // PETIT_HOST_API_METRICS_H_
