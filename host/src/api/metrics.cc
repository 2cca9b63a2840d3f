#include "api/metrics.h"

#include <dirent.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <string>
#include <utility>

#include "petit/core/states.h"
#include "runtime/daemon.h"
#include "runtime/proc_files.h"

#ifndef PETIT_VERSION
#define PETIT_VERSION "0.0.0"
#endif

namespace petit::host {
namespace metrics_text {

std::string EscapeLabelValue(std::string_view value) {
  std::string escaped;
  escaped.reserve(value.size());
  for (char c : value) {
    switch (c) {
      case '\\':
        escaped += "\\\\";
        break;
      case '"':
        escaped += "\\\"";
        break;
      case '\n':
        escaped += "\\n";
        break;
      default:
        escaped += c;
    }
  }
  return escaped;
}

std::string EscapeHelp(std::string_view text) {
  std::string escaped;
  escaped.reserve(text.size());
  for (char c : text) {
    if (c == '\\') {
      escaped += "\\\\";
    } else if (c == '\n') {
      escaped += "\\n";
    } else {
      escaped += c;
    }
  }
  return escaped;
}

std::string LabelPair(std::string_view name, std::string_view value) {
  std::string pair(name);
  pair += "=\"";
  pair += EscapeLabelValue(value);
  pair += '"';
  return pair;
}

void AppendValue(std::string& out, double value) {
  if (std::isnan(value)) {
    out += "NaN";
    return;
  }
  if (std::isinf(value)) {
    out += value > 0 ? "+Inf" : "-Inf";
    return;
  }
  char buffer[32];
  // Integral values (counts, whole seconds) print without a fraction or an exponent.
  if (value == std::trunc(value) && std::fabs(value) < 1e15) {
    auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), static_cast<int64_t>(value));
    out.append(buffer, end);
    return;
  }
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  out.append(buffer, end);
}

void AppendValue(std::string& out, uint64_t value) {
  char buffer[24];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  out.append(buffer, end);
}

void AppendHeader(std::string& out, std::string_view name, std::string_view type,
                  std::string_view help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += EscapeHelp(help);
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

namespace {

void AppendName(std::string& out, std::string_view name, std::string_view labels) {
  out += name;
  if (!labels.empty()) {
    out += '{';
    out += labels;
    out += '}';
  }
  out += ' ';
}

}  // namespace

void AppendSample(std::string& out, std::string_view name, std::string_view labels, double value) {
  AppendName(out, name, labels);
  AppendValue(out, value);
  out += '\n';
}

void AppendSample(std::string& out, std::string_view name, std::string_view labels,
                  uint64_t value) {
  AppendName(out, name, labels);
  AppendValue(out, value);
  out += '\n';
}

Buckets::Buckets(std::vector<double> bounds) : bounds_(std::move(bounds)) {
  for (double bound : bounds_) {
    std::string label = "le=\"";
    AppendValue(label, bound);
    label += '"';
    le_labels_.push_back(std::move(label));
  }
  le_labels_.push_back("le=\"+Inf\"");
}

Histogram::Histogram(const Buckets& buckets)
    : buckets_(&buckets), counts_(buckets.bounds().size() + 1, 0) {}

void Histogram::Observe(double value) {
  const std::vector<double>& bounds = buckets_->bounds();
  // Buckets are "less than or equal": a value on a bound counts in that bound's bucket.
  const size_t bucket = std::lower_bound(bounds.begin(), bounds.end(), value) - bounds.begin();
  ++counts_[bucket];
  sum_ += value;
  ++count_;
}

void Histogram::Append(std::string& out, std::string_view name, std::string_view labels) const {
  // `name_bucket{labels,` once, then each line copies it whole: a scrape is mostly these lines.
  char prefix[256];
  const size_t prefix_size = name.size() + 8 + labels.size() + (labels.empty() ? 0 : 1);
  if (prefix_size > sizeof(prefix)) {
    std::string long_prefix = std::string(name) + "_bucket{" + std::string(labels);
    if (!labels.empty()) long_prefix += ',';
    AppendBuckets(out, long_prefix);
  } else {
    char* at = std::copy(name.begin(), name.end(), prefix);
    at = std::copy_n("_bucket{", 8, at);
    at = std::copy(labels.begin(), labels.end(), at);
    if (!labels.empty()) *at++ = ',';
    AppendBuckets(out, std::string_view(prefix, prefix_size));
  }
  out += name;
  AppendName(out, "_sum", labels);
  AppendValue(out, sum_);
  out += '\n';
  out += name;
  AppendName(out, "_count", labels);
  AppendValue(out, count_);
  out += '\n';
}

void Histogram::AppendBuckets(std::string& out, std::string_view prefix) const {
  const std::vector<std::string>& le = buckets_->le_labels();
  uint64_t cumulative = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    cumulative += counts_[i];
    out += prefix;
    out += le[i];
    out += "} ";
    AppendValue(out, cumulative);
    out += '\n';
  }
}

}  // namespace metrics_text

namespace {

using metrics_text::AppendHeader;
using metrics_text::AppendSample;
using metrics_text::Histogram;
using metrics_text::LabelPair;

// Bucket bounds in seconds. A schedule fires within milliseconds of its time, or late by the
// length of a stall; queue waits and durations range from milliseconds to a batch night.
const metrics_text::Buckets& DelayBuckets() {
  static const auto* buckets = new metrics_text::Buckets(
      {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 60});
  return *buckets;
}
const metrics_text::Buckets& QueueWaitBuckets() {
  static const auto* buckets =
      new metrics_text::Buckets({0.001, 0.01, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600});
  return *buckets;
}
// Ten buckets: 1,000 jobs with two task types each make some 48,000 series already.
const metrics_text::Buckets& DurationBuckets() {
  static const auto* buckets =
      new metrics_text::Buckets({0.1, 0.5, 2, 10, 30, 60, 300, 900, 3600, 14400});
  return *buckets;
}

// Past this many runs in progress (their end events dropped by a full bus), the oldest are
// forgotten, so a lossy bus cannot grow the map without bound.
constexpr size_t kMaxTrackedRuns = 100000;

constexpr std::string_view kUnknownType = "unknown";
// Not `job`: Prometheus sets that label on every series to the scrape job's name.
constexpr std::string_view kJobLabel = "job_id";
constexpr std::string_view kTaskTypeLabel = "task_type";

double Seconds(int64_t micros) { return static_cast<double>(micros) / 1e6; }

template <size_t N>
std::array<std::string, N> LabelsOf(std::string_view name,
                                    const std::array<std::string_view, N>& values) {
  std::array<std::string, N> labels;
  for (size_t i = 0; i < N; ++i) labels[i] = LabelPair(name, values[i]);
  return labels;
}

template <size_t N>
size_t IndexOf(const std::array<std::string_view, N>& values, std::string_view value) {
  return std::find(values.begin(), values.end(), value) - values.begin();
}

// "job_id=...,status=..." without building a string per sample.
void AppendJoined(std::string& out, std::string_view name, std::string_view a, std::string_view b,
                  uint64_t value) {
  out += name;
  out += '{';
  out += a;
  out += ',';
  out += b;
  out += "} ";
  metrics_text::AppendValue(out, value);
  out += '\n';
}

std::optional<uint64_t> CountOpenFds() {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return std::nullopt;
  uint64_t count = 0;
  while (const dirent* entry = readdir(dir)) {
    if (entry->d_name[0] != '.') ++count;
  }
  closedir(dir);
  return count > 0 ? count - 1 : 0;  // less the directory's own descriptor
}

// When the machine booted (seconds since the epoch), from /proc/stat's btime; read once.
std::optional<int64_t> BootTime() {
  static const std::optional<int64_t> boot = []() -> std::optional<int64_t> {
    std::optional<std::string> stat = ReadProcFile("/proc/stat");
    if (!stat) return std::nullopt;
    const size_t at = stat->find("\nbtime ");
    if (at == std::string::npos) return std::nullopt;
    int64_t seconds = 0;
    const char* begin = stat->data() + at + 7;
    auto [end, ec] = std::from_chars(begin, stat->data() + stat->size(), seconds);
    if (ec != std::errc()) return std::nullopt;
    return seconds;
  }();
  return boot;
}

}  // namespace

ProcessStats ReadProcessStats() {
  ProcessStats stats;
  stats.open_fds = CountOpenFds();
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) {
    stats.max_fds = limit.rlim_cur;
  }
  std::optional<std::string> stat = ReadProcFile("/proc/self/stat");
  if (!stat) return stats;
  // Fields after the command name, which is in parentheses and may itself hold spaces and ')'.
  const size_t close = stat->rfind(')');
  if (close == std::string::npos) return stats;
  std::vector<std::string_view> fields;  // fields[0] is field 3 (state)
  std::string_view rest(*stat);
  rest.remove_prefix(close + 1);
  while (!rest.empty()) {
    const size_t start = rest.find_first_not_of(" \n");
    if (start == std::string_view::npos) break;
    rest.remove_prefix(start);
    const size_t end = std::min(rest.find_first_of(" \n"), rest.size());
    fields.push_back(rest.substr(0, end));
    rest.remove_prefix(end);
  }
  auto field = [&fields](size_t number) -> std::optional<uint64_t> {
    if (number < 3 || number - 3 >= fields.size()) return std::nullopt;
    uint64_t value = 0;
    const std::string_view text = fields[number - 3];
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc()) return std::nullopt;
    return value;
  };
  const long ticks = sysconf(_SC_CLK_TCK);
  const long page = sysconf(_SC_PAGESIZE);
  const std::optional<uint64_t> utime = field(14);
  const std::optional<uint64_t> stime = field(15);
  // The process's CPU clock counts nanoseconds; /proc's utime and stime count ticks (10 ms), so a
  // daemon that had used less than one read 0 (MetricsDaemonTest did, once start-up got cheaper).
  if (timespec cpu{}; clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu) == 0) {
    stats.cpu_seconds = static_cast<double>(cpu.tv_sec) + static_cast<double>(cpu.tv_nsec) / 1e9;
  } else if (utime && stime && ticks > 0) {
    stats.cpu_seconds = static_cast<double>(*utime + *stime) / static_cast<double>(ticks);
  }
  const std::optional<uint64_t> start = field(22);
  const std::optional<int64_t> boot = BootTime();
  if (start && boot && ticks > 0) {
    stats.start_time_seconds =
        static_cast<double>(*boot) + static_cast<double>(*start) / static_cast<double>(ticks);
  }
  stats.virtual_bytes = field(23);
  if (const std::optional<uint64_t> rss = field(24); rss && page > 0) {
    stats.resident_bytes = *rss * static_cast<uint64_t>(page);
  }
  return stats;
}

Metrics::Metrics(DaemonApi& daemon)
    : daemon_(daemon),
      build_info_labels_(LabelPair("version", PETIT_VERSION)),
      schedule_delay_(DelayBuckets()),
      queue_wait_(QueueWaitBuckets()) {
  {
    MutexLock lock(mu_);
    TypeIndex(std::string(kUnknownType));
  }
  // Subscribed first: a success that ends while the store is read is not lost (the newer of the
  // two times wins).
  subscription_ = daemon_.events().Subscribe([this](const Event& event) { OnEvent(event); });
  Sync();
}

Metrics::~Metrics() { daemon_.events().Unsubscribe(subscription_); }

size_t Metrics::TypeIndex(const std::string& type) {
  auto [it, added] = type_index_.emplace(type, type_labels_.size());
  if (added) type_labels_.push_back(LabelPair(kTaskTypeLabel, type));
  return it->second;
}

void Metrics::Define(JobSeries& series, std::shared_ptr<const Job> definition) {
  const Dag& dag = definition->dag;
  for (Dag::Index i = 0; i < dag.size(); ++i) {
    const TaskSpec& task = dag.task(i);
    series.task_types[task.id] = TypeIndex(task.type);
  }
  series.definition = std::move(definition);
}

Metrics::JobSeries* Metrics::Series(const JobId& job) {
  auto it = jobs_.find(job);
  if (it != jobs_.end()) return &it->second;
  // A job a reload added since the last scrape (rare: once per job).
  std::shared_ptr<const Job> definition = daemon_.FindJob(job);
  if (definition == nullptr) return nullptr;
  JobSeries& series = jobs_[job];
  series.label = LabelPair(kJobLabel, job.str());
  Define(series, std::move(definition));
  return &series;
}

void Metrics::AttemptEnded(JobSeries& series, RunTimes& run, const Event& event) {
  auto it = run.tasks.find(event.task);
  if (it == run.tasks.end()) return;
  const AttemptTimes times = it->second;
  run.tasks.erase(it);
  if (times.attempt != event.attempt || times.started_us == 0) return;
  auto type = series.task_types.find(event.task);
  const size_t index =
      type == series.task_types.end() ? type_index_.at(std::string(kUnknownType)) : type->second;
  auto [histogram, added] = series.task_duration.try_emplace(index, DurationBuckets());
  histogram->second.Observe(Seconds(std::max<int64_t>(0, event.time_us - times.started_us)));
}

void Metrics::OnEvent(const Event& event) {
  MutexLock lock(mu_);
  if (event.type == EventType::kScheduleFired) {
    // Only the schedule's own fires measure its punctuality: a catch-up is late by design.
    if (event.trigger == "schedule" && event.occurrence_us > 0) {
      schedule_delay_.Observe(Seconds(std::max<int64_t>(0, event.time_us - event.occurrence_us)));
    }
    return;
  }
  JobSeries* series = Series(event.job);
  if (series == nullptr) {
    // A job a reload removed while this run went on: nothing is counted, nothing kept.
    if (event.type == EventType::kJobCompleted) runs_.erase(event.run);
    return;
  }
  switch (event.type) {
    case EventType::kTriggerRefused:
      ++series->runs_refused;
      return;
    case EventType::kJobStarted: {
      const size_t trigger = std::min(IndexOf(kTriggers, event.trigger), kTriggers.size() - 1);
      ++series->runs_started[trigger];
      RunTimes& run = runs_[event.run];
      run.started_us = event.time_us;
      run.tasks.clear();
      while (runs_.size() > kMaxTrackedRuns) runs_.erase(runs_.begin());
      return;
    }
    case EventType::kJobCompleted: {
      Result<RunStatus> status = ParseRunStatus(event.detail);
      const size_t index =
          status.ok() ? IndexOf(kRunStatuses, RunStatusName(*status)) : kRunStatuses.size();
      if (index < kRunStatuses.size()) ++series->runs_finished[index];
      if (status.ok() && *status == RunStatus::kSucceeded) {
        series->last_success_us = std::max(series->last_success_us, event.time_us);
      }
      auto run = runs_.find(event.run);
      if (run == runs_.end()) return;
      if (run->second.started_us != 0) {
        if (!series->run_duration) series->run_duration.emplace(DurationBuckets());
        series->run_duration->Observe(
            Seconds(std::max<int64_t>(0, event.time_us - run->second.started_us)));
      }
      runs_.erase(run);
      return;
    }
    default:
      break;
  }
  // Task events. A run whose start this object did not see (it subscribed later) is tracked
  // from its first task event.
  RunTimes& run = runs_[event.run];
  switch (event.type) {
    case EventType::kTaskQueued:
      run.tasks[event.task] = AttemptTimes{.attempt = event.attempt, .queued_us = event.time_us};
      return;
    case EventType::kTaskStarted: {
      AttemptTimes& times = run.tasks[event.task];
      if (times.attempt == event.attempt && times.queued_us != 0) {
        queue_wait_.Observe(Seconds(std::max<int64_t>(0, event.time_us - times.queued_us)));
      }
      times.attempt = event.attempt;
      times.started_us = event.time_us;
      return;
    }
    case EventType::kTaskRetrying:
      ++series->task_retries;
      AttemptEnded(*series, run, event);
      return;
    case EventType::kTaskSucceeded:
      static_assert(kTaskStatuses[0] == "succeeded" && kTaskStatuses[1] == "failed" &&
                    kTaskStatuses[2] == "cancelled" && kTaskStatuses[3] == "skipped");
      ++series->tasks_finished[0];
      AttemptEnded(*series, run, event);
      return;
    case EventType::kTaskFailed:
      ++series->tasks_finished[1];
      AttemptEnded(*series, run, event);
      return;
    case EventType::kTaskCancelled:
      ++series->tasks_finished[2];
      AttemptEnded(*series, run, event);
      return;
    case EventType::kTaskSkipped:
      ++series->tasks_finished[3];
      run.tasks.erase(event.task);
      return;
    default:
      return;
  }
}

void Metrics::Sync() {
  std::vector<std::shared_ptr<const Job>> jobs = daemon_.Jobs();
  std::vector<JobId> unseeded;
  {
    MutexLock lock(mu_);
    if (jobs != synced_) {
      std::map<JobId, JobSeries> next;
      for (const std::shared_ptr<const Job>& job : jobs) {
        auto old = jobs_.find(job->id);
        JobSeries& series = next[job->id];
        if (old != jobs_.end()) {
          series = std::move(old->second);
          if (series.definition == job) continue;
        } else {
          series.label = LabelPair(kJobLabel, job->id.str());
        }
        Define(series, job);
      }
      // What is not in `next` now is a job the reload removed: its series go with it.
      jobs_ = std::move(next);
      synced_ = std::move(jobs);
    }
    for (auto& [id, series] : jobs_) {
      if (!series.seeded) unseeded.push_back(id);
    }
  }
  if (unseeded.empty()) return;
  // Outside the lock: events keep flowing while the store answers.
  StateStore& store = daemon_.store();
  constexpr RunStatus kSucceeded[] = {RunStatus::kSucceeded};
  std::vector<std::pair<JobId, int64_t>> seeds;
  for (const JobId& id : unseeded) {
    Result<std::optional<RunRecord>> last = store.LastRun(id, kSucceeded, 0);
    // Asked once: a store that does not answer now leaves it to the next success.
    seeds.emplace_back(id, last.ok() && last->has_value() ? (*last)->ended_us : 0);
  }
  MutexLock lock(mu_);
  for (const auto& [id, ended_us] : seeds) {
    auto it = jobs_.find(id);
    if (it == jobs_.end()) continue;
    it->second.seeded = true;
    it->second.last_success_us = std::max(it->second.last_success_us, ended_us);
  }
}

std::string Metrics::Render() {
  Sync();
  // The daemon's parts first, without mu_: the event handler never waits on the daemon's locks
  // because of a scrape.
  const DaemonState daemon = daemon_.State();
  std::vector<Scheduler::JobState> job_states = daemon_.JobStates();
  std::sort(job_states.begin(), job_states.end(),
            [](const auto& a, const auto& b) { return a.job < b.job; });
  const std::vector<ResourceManager::PoolUsage> pools = daemon_.PoolUsage();
  const uint64_t dropped = daemon_.events().dropped();
  const ProcessStats process = ReadProcessStats();

  static const std::array<std::string, kTriggers.size()> kTriggerLabels =
      LabelsOf("trigger", kTriggers);
  static const std::array<std::string, kRunStatuses.size()> kRunStatusLabels =
      LabelsOf("status", kRunStatuses);
  static const std::array<std::string, kTaskStatuses.size()> kTaskStatusLabels =
      LabelsOf("status", kTaskStatuses);

  std::string out;
  // One allocation: the size of the previous scrape, with room to grow.
  out.reserve(last_size_.load(std::memory_order_relaxed) * 9 / 8 + 4096);
  MutexLock lock(mu_);

  AppendHeader(out, "petit_build_info", "gauge", "Petit's version, as a label; always 1.");
  AppendSample(out, "petit_build_info", build_info_labels_, uint64_t{1});
  AppendHeader(out, "petit_scheduler_paused", "gauge",
               "1 while the whole scheduler is paused (no schedule fires).");
  AppendSample(out, "petit_scheduler_paused", "", uint64_t{daemon.scheduler_paused ? 1u : 0u});
  AppendHeader(out, "petit_active_runs", "gauge", "Runs in progress on this host.");
  AppendSample(out, "petit_active_runs", "", daemon.active_runs);
  AppendHeader(out, "petit_schedule_delay_seconds", "histogram",
               "Actual minus nominal fire time of scheduled occurrences (catch-ups excluded).");
  schedule_delay_.Append(out, "petit_schedule_delay_seconds", "");

  AppendHeader(out, "petit_runs_started_total", "counter", "Runs started, by job and trigger.");
  for (const auto& [id, series] : jobs_) {
    for (size_t i = 0; i < kTriggers.size(); ++i) {
      if (series.runs_started[i] == 0) continue;
      AppendJoined(out, "petit_runs_started_total", series.label, kTriggerLabels[i],
                   series.runs_started[i]);
    }
  }
  // Succeeded and failed are always present, so that increase() sees a job's first failure.
  AppendHeader(out, "petit_runs_finished_total", "counter", "Runs ended, by job and status.");
  for (const auto& [id, series] : jobs_) {
    for (size_t i = 0; i < kRunStatuses.size(); ++i) {
      if (i >= 2 && series.runs_finished[i] == 0) continue;
      AppendJoined(out, "petit_runs_finished_total", series.label, kRunStatusLabels[i],
                   series.runs_finished[i]);
    }
  }
  AppendHeader(out, "petit_runs_refused_total", "counter",
               "Occurrences and triggers refused (overlap, unmet dependency, run limit), by "
               "job.");
  for (const auto& [id, series] : jobs_) {
    if (series.runs_refused == 0) continue;
    AppendSample(out, "petit_runs_refused_total", series.label, series.runs_refused);
  }
  AppendHeader(out, "petit_run_duration_seconds", "histogram",
               "Wall time of ended runs (of a retry: from its restart), by job.");
  for (const auto& [id, series] : jobs_) {
    if (series.run_duration)
      series.run_duration->Append(out, "petit_run_duration_seconds", series.label);
  }
  AppendHeader(out, "petit_tasks_finished_total", "counter",
               "Tasks ended in a run (after their retries), by job and status; skipped includes "
               "upstream_failed.");
  for (const auto& [id, series] : jobs_) {
    for (size_t i = 0; i < kTaskStatuses.size(); ++i) {
      if (i >= 2 && series.tasks_finished[i] == 0) continue;
      AppendJoined(out, "petit_tasks_finished_total", series.label, kTaskStatusLabels[i],
                   series.tasks_finished[i]);
    }
  }
  AppendHeader(out, "petit_task_duration_seconds", "histogram",
               "Wall time of task attempts that ran, failed and retried ones included, by job "
               "and task type.");
  std::string labels;
  for (const auto& [id, series] : jobs_) {
    for (const auto& [type, histogram] : series.task_duration) {
      labels.assign(series.label);
      labels += ',';
      labels += type_labels_[type];
      histogram.Append(out, "petit_task_duration_seconds", labels);
    }
  }
  AppendHeader(out, "petit_task_retries_total", "counter",
               "Failed task attempts followed by a retry, by job.");
  for (const auto& [id, series] : jobs_) {
    AppendSample(out, "petit_task_retries_total", series.label, series.task_retries);
  }
  AppendHeader(out, "petit_task_queue_wait_seconds", "histogram",
               "Time task attempts waited from queued (ready) to started, for a worker or pool "
               "slots.");
  queue_wait_.Append(out, "petit_task_queue_wait_seconds", "");

  AppendHeader(out, "petit_pool_slots", "gauge",
               "Slots of each resource pool (and cpu_slots, max_tasks when petit.yaml sets "
               "them), used or free.");
  for (const ResourceManager::PoolUsage& pool : pools) {
    if (pool.name == kMemoryMbName) continue;
    const std::string name = LabelPair("pool", pool.name);
    AppendJoined(out, "petit_pool_slots", name, "state=\"used\"", pool.in_use);
    AppendJoined(out, "petit_pool_slots", name, "state=\"free\"",
                 pool.capacity > pool.in_use ? pool.capacity - pool.in_use : 0);
  }
  AppendHeader(out, "petit_pool_waiting_tasks", "gauge",
               "Task attempts waiting for slots of each pool.");
  for (const ResourceManager::PoolUsage& pool : pools) {
    if (pool.name == kMemoryMbName) continue;
    AppendSample(out, "petit_pool_waiting_tasks", LabelPair("pool", pool.name),
                 uint64_t{pool.waiting});
  }
  for (const ResourceManager::PoolUsage& pool : pools) {
    if (pool.name != kMemoryMbName) continue;
    AppendHeader(out, "petit_memory_reserved_bytes", "gauge",
                 "Memory reserved by running tasks (petit.yaml memory_mb), used or free.");
    constexpr uint64_t kMiB = 1024 * 1024;
    AppendSample(out, "petit_memory_reserved_bytes", "state=\"used\"", pool.in_use * kMiB);
    AppendSample(out, "petit_memory_reserved_bytes", "state=\"free\"",
                 (pool.capacity > pool.in_use ? pool.capacity - pool.in_use : 0) * kMiB);
  }

  // Both lists are sorted by id: paired by walking them side by side rather than by look-ups.
  std::vector<std::pair<const JobSeries*, const Scheduler::JobState*>> states;
  states.reserve(job_states.size());
  auto job = job_states.begin();
  for (const auto& [id, series] : jobs_) {
    while (job != job_states.end() && job->job < id) ++job;
    if (job == job_states.end()) break;
    if (job->job == id) states.emplace_back(&series, &*job);
  }
  AppendHeader(out, "petit_job_paused", "gauge", "1 while the job's schedule is paused.");
  for (const auto& [series, state] : states) {
    AppendSample(out, "petit_job_paused", series->label, uint64_t{state->paused ? 1u : 0u});
  }
  AppendHeader(out, "petit_job_next_fire_timestamp_seconds", "gauge",
               "When the job's schedule fires next (absent: no schedule, disabled or paused).");
  for (const auto& [series, state] : states) {
    if (!state->next_fire_us) continue;
    AppendSample(out, "petit_job_next_fire_timestamp_seconds", series->label,
                 Seconds(*state->next_fire_us));
  }
  AppendHeader(out, "petit_job_last_success_timestamp_seconds", "gauge",
               "When the job's latest successful run ended (absent: none recorded).");
  for (const auto& [id, series] : jobs_) {
    if (series.last_success_us == 0) continue;
    AppendSample(out, "petit_job_last_success_timestamp_seconds", series.label,
                 Seconds(series.last_success_us));
  }

  AppendHeader(out, "petit_events_dropped_total", "counter",
               "Engine events dropped because listeners fell behind (metrics may undercount).");
  AppendSample(out, "petit_events_dropped_total", "", dropped);
  AppendHeader(out, "petit_store_up", "gauge", "1 while the state store answers.");
  AppendSample(out, "petit_store_up", "", uint64_t{daemon.store.available ? 1u : 0u});
  AppendHeader(out, "petit_store_pending_writes", "gauge",
               "Run and task transitions held in memory until the state store answers.");
  AppendSample(out, "petit_store_pending_writes", "",
               static_cast<double>(daemon.store.pending_writes));

  // The standard process metrics, each only when /proc/self gave its value.
  const struct {
    std::optional<double> value;
    std::string_view name;
    std::string_view type;
    std::string_view help;
  } kProcessMetrics[] = {
      {process.cpu_seconds, "process_cpu_seconds_total", "counter",
       "Total user and system CPU time spent in seconds."},
      {process.resident_bytes, "process_resident_memory_bytes", "gauge",
       "Resident memory size in bytes."},
      {process.virtual_bytes, "process_virtual_memory_bytes", "gauge",
       "Virtual memory size in bytes."},
      {process.open_fds, "process_open_fds", "gauge", "Number of open file descriptors."},
      {process.max_fds, "process_max_fds", "gauge", "Maximum number of open file descriptors."},
      {process.start_time_seconds, "process_start_time_seconds", "gauge",
       "Start time of the process since unix epoch in seconds."},
  };
  for (const auto& metric : kProcessMetrics) {
    if (!metric.value) continue;
    AppendHeader(out, metric.name, metric.type, metric.help);
    AppendSample(out, metric.name, "", *metric.value);
  }
  last_size_.store(out.size(), std::memory_order_relaxed);
  return out;
}

}  // namespace petit::host
