// Loading a job directory: parse + validate 1,000 job files of 20 tasks each, with schedules,
// job dependencies and plugin parameters checked against a schema. Target (Release): < 0.5 s for
// the whole directory.
//   build/h-yaml-rel/bin/petit_load_bench
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include <yaml.h>

#include "config/job_loader.h"

namespace petit::host {
namespace {

constexpr int kJobs = 1000;
constexpr int kTasksPerJob = 20;

constexpr char kSleepSchema[] =
    R"({"type":"object","properties":{"ms":{"type":"integer","minimum":0}},)"
    R"("required":["ms"],"additionalProperties":false})";

// One job in the original format, with every kind of field the loader reads: a schedule in a
// zone, a job dependency on the previous job, config, and tasks of three kinds in a layered DAG
// written in reverse order (so every dependency is a forward reference).
std::string JobYaml(int index) {
  std::string yaml = "id: job_" + std::to_string(index) + "\n";
  yaml += "name: Job number " + std::to_string(index) + "\n";
  yaml += "description: generated for the load benchmark\n";
  yaml += "schedule:\n  cron: \"0 " + std::to_string(index % 60) +
          " 2 * * MON-FRI\"\n  timezone: Europe/London\n";
  yaml += "max_concurrency: 1\noverlap: queue\n";
  if (index > 0) {
    yaml += "depends_on:\n  - job: job_" + std::to_string(index - 1) + "\n";
    yaml += "    condition: {within_window: {seconds: 86400}}\n";
  }
  yaml += "config:\n  batch_size: 1000\n  output_dir: /tmp/out\n";
  yaml += "tasks:\n";
  for (int t = kTasksPerJob - 1; t >= 0; --t) {
    const std::string id = "task_" + std::to_string(t);
    yaml += "  - id: " + id + "\n";
    if (t % 5 == 4) {
      yaml += "    type: sleep\n    params: {ms: " + std::to_string(t) + "}\n";
    } else if (t % 5 == 3) {
      yaml += "    type: python\n    script: scripts/" + id + ".py\n";
    } else {
      yaml += "    type: command\n    command: ./run.sh\n";
      yaml += "    args: [\"--step\", \"" + id + "\", \"${{ config.batch_size }}\"]\n";
      yaml += "    environment:\n      STAGE: " + id + "\n";
      yaml += "    retry:\n      max_attempts: 3\n      delay_secs: 10\n";
      yaml += "      condition: transient_only\n";
    }
    if (t >= 2) {
      yaml += "    depends_on: [task_" + std::to_string(t - 1) + ", task_" +
              std::to_string(t / 2 - 1) + "]\n";
    } else if (t == 1) {
      yaml += "    depends_on: [task_0]\n";
    }
    if (t == kTasksPerJob - 1) yaml += "    condition: all_done\n";
  }
  return yaml;
}

class JobDirectory {
 public:
  JobDirectory() {
    std::string pattern = (std::filesystem::temp_directory_path() / "petit-load-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) std::abort();
    path_ = pattern;
    for (int i = 0; i < kJobs; ++i) {
      char name[32];
      std::snprintf(name, sizeof name, "job_%04d.yaml", i);
      std::ofstream(path_ / name) << JobYaml(i);
    }
  }
  ~JobDirectory() { std::filesystem::remove_all(path_); }
  JobDirectory(const JobDirectory&) = delete;
  JobDirectory& operator=(const JobDirectory&) = delete;

  std::string path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

JobLoaderOptions Options() {
  JobLoaderOptions options;
  options.known_types = {"command", "sleep", "noop"};
  options.params_schemas.emplace("sleep", kSleepSchema);
  options.default_time_zone = "UTC";
  return options;
}

void BM_LoadJobDirectory(benchmark::State& state) {
  static const JobDirectory directory;
  const JobLoaderOptions options = Options();
  for (auto _ : state) {
    LoadedJobs loaded = LoadJobDirectory(directory.path(), options);
    if (!loaded.errors.empty() || loaded.jobs.size() != kJobs) {
      state.SkipWithError(
          ("the generated jobs do not load: " +
           (loaded.errors.empty() ? std::string("wrong count") : loaded.errors.front().ToString()))
              .c_str());
      break;
    }
    benchmark::DoNotOptimize(loaded);
  }
  state.counters["jobs"] = kJobs;
  state.counters["tasks"] = kJobs * kTasksPerJob;
  state.counters["time_per_task"] =
      benchmark::Counter(kJobs * kTasksPerJob, benchmark::Counter::kIsIterationInvariantRate |
                                                   benchmark::Counter::kInvert);
}
BENCHMARK(BM_LoadJobDirectory)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MeasureProcessCPUTime()
    ->MinTime(3.0);

// Every event libyaml reports for `text`, with nothing checked or built: the parser Petit uses,
// alone. Returns how many there were.
size_t LibyamlEvents(std::string_view text) {
  yaml_parser_t parser;
  yaml_parser_initialize(&parser);
  yaml_parser_set_input_string(&parser, reinterpret_cast<const unsigned char*>(text.data()),
                               text.size());
  size_t events = 0;
  yaml_event_t event;
  while (yaml_parser_parse(&parser, &event) != 0) {
    const bool end = event.type == YAML_STREAM_END_EVENT;
    yaml_event_delete(&event);
    ++events;
    if (end) break;
  }
  yaml_parser_delete(&parser);
  return events;
}

// The floor: libyaml reading the same files, one file after another, with no checks and nothing
// built from them.
void BM_LibyamlParseOnly(benchmark::State& state) {
  static const JobDirectory directory;
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(directory.path())) {
    files.push_back(entry.path().string());
  }
  for (auto _ : state) {
    for (const std::string& file : files) {
      std::ifstream in(file, std::ios::binary);
      const std::string text((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
      benchmark::DoNotOptimize(LibyamlEvents(text));
    }
  }
}
BENCHMARK(BM_LibyamlParseOnly)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(3.0);

// One file from text, without the file system: the parser and checks alone.
void BM_LoadOneJobFromString(benchmark::State& state) {
  const std::string yaml = JobYaml(1);
  const JobLoaderOptions options = Options();
  for (auto _ : state) {
    LoadedJobs loaded = LoadJobFromString(yaml, "job.yaml", options);
    benchmark::DoNotOptimize(loaded);
  }
}
BENCHMARK(BM_LoadOneJobFromString)->Unit(benchmark::kMicrosecond);

// The floor of the one above: libyaml alone on the same text.
void BM_LibyamlParseOneJob(benchmark::State& state) {
  const std::string yaml = JobYaml(1);
  for (auto _ : state) benchmark::DoNotOptimize(LibyamlEvents(yaml));
}
BENCHMARK(BM_LibyamlParseOneJob)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace petit::host

BENCHMARK_MAIN();
