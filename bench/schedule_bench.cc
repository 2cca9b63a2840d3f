// Schedule::NextAfter per call, and the next fire time of 10,000 different schedules (the work a
// scheduler does when it loads a large job directory). Target: under 2 us per schedule.
#include <benchmark/benchmark.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "petit/core/schedule.h"

namespace petit {
namespace {

constexpr int64_t kStart = 1'767'225'600'000'000;  // 2026-01-01T00:00:00Z
constexpr int64_t kWrap = 4'102'444'800'000'000;   // 2100-01-01T00:00:00Z: start over
constexpr int64_t kTenYears = 315'360'000'000'000;
constexpr uint32_t kSeed = 42;
constexpr size_t kSchedules = 10'000;
constexpr size_t kRandomInstants = 4096;

Schedule MustParse(std::string_view expression, std::string_view zone) {
  Result<Schedule> schedule = Schedule::Parse(expression, zone);
  if (!schedule.ok()) {
    std::fprintf(stderr, "%s\n", schedule.status().ToString().c_str());
    std::abort();
  }
  return *schedule;
}

struct Case {
  std::string_view expression;
  std::string_view zone;
};

constexpr std::array<Case, 6> kCases = {{
    {"*/5 * * * *", "UTC"},
    {"0 30 9 * * MON-FRI", "Europe/London"},
    {"0 0 L * *", "UTC"},
    {"@every 90s", "UTC"},
    {"*/15 * * * *", "America/New_York"},
    {"0 0 29 2 *", "Australia/Lord_Howe"},
}};

void SetCaseLabel(benchmark::State& state, const Case& c) {
  std::string label(c.expression);
  label.append(" in ").append(c.zone);
  state.SetLabel(label);
}

// What the scheduler does: each call starts from the previous fire time.
void BM_NextAfterFromPreviousFire(benchmark::State& state) {
  const Case& c = kCases[static_cast<size_t>(state.range(0))];
  const Schedule schedule = MustParse(c.expression, c.zone);
  SetCaseLabel(state, c);
  int64_t t = kStart;
  for (auto _ : state) {
    const std::optional<int64_t> next = schedule.NextAfter(t);
    benchmark::DoNotOptimize(next);
    t = next && *next < kWrap ? *next : kStart;
  }
}
BENCHMARK(BM_NextAfterFromPreviousFire)->DenseRange(0, kCases.size() - 1);

// Arbitrary instants over ten years (a restart, a new job), including ones near DST changes.
void BM_NextAfterFromRandomInstant(benchmark::State& state) {
  const Case& c = kCases[static_cast<size_t>(state.range(0))];
  const Schedule schedule = MustParse(c.expression, c.zone);
  SetCaseLabel(state, c);
  std::mt19937_64 rng(kSeed);
  std::uniform_int_distribution<int64_t> pick(kStart, kStart + kTenYears);
  std::vector<int64_t> instants(kRandomInstants);
  for (int64_t& t : instants) t = pick(rng);
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(schedule.NextAfter(instants[i]));
    i = (i + 1) % instants.size();
  }
}
BENCHMARK(BM_NextAfterFromRandomInstant)->DenseRange(0, kCases.size() - 1);

// A varied but reproducible population: every field form, day names, L and #, six-field
// expressions, intervals, several zones (half-hour DST included).
class ExpressionGenerator {
 public:
  std::pair<std::string, std::string> Next() {
    static constexpr std::array<std::string_view, 7> kZones = {
        "UTC",        "Europe/London", "America/New_York", "Australia/Lord_Howe",
        "Asia/Tokyo", "Asia/Kolkata",  "America/Sao_Paulo"};
    std::string zone(kZones[Below(kZones.size())]);
    if (Below(10) == 0) return {"@every " + std::to_string(1 + Below(7200)) + "s", zone};
    std::string expression;
    if (Below(4) == 0) expression = Field(0, 59) + " ";
    expression += Field(0, 59) + " " + Field(0, 23) + " ";
    switch (Below(6)) {
      case 0:
        expression += Field(1, 28) + " * *";
        break;
      case 1:
        expression += "L * *";
        break;
      case 2:
        expression += "* * MON-FRI";
        break;
      case 3:
        expression += "* * " + std::to_string(Below(7)) + "#" + std::to_string(1 + Below(4));
        break;
      case 4:
        expression += Field(1, 28) + " " + Field(1, 12) + " " + Field(0, 6);
        break;
      default:
        expression += "* * *";
        break;
    }
    return {expression, zone};
  }

 private:
  uint32_t Below(size_t n) {
    return std::uniform_int_distribution<uint32_t>(0, static_cast<uint32_t>(n - 1))(rng_);
  }

  std::string Field(uint32_t low, uint32_t high) {
    const uint32_t span = high - low + 1;
    const uint32_t a = low + Below(span);
    const uint32_t b = a + Below(high - a + 1);
    switch (Below(6)) {
      case 0:
        return "*";
      case 1:
        return "*/" + std::to_string(1 + Below(span / 2));
      case 2:
        return std::to_string(a);
      case 3:
        return std::to_string(a) + "-" + std::to_string(b);
      case 4:
        return std::to_string(a) + "," + std::to_string(b);
      default:
        return std::to_string(a) + "-" + std::to_string(b) + "/" + std::to_string(1 + Below(3));
    }
  }

  std::mt19937 rng_{kSeed};
};

std::vector<Schedule> TenThousandSchedules() {
  ExpressionGenerator generator;
  std::vector<Schedule> schedules;
  schedules.reserve(kSchedules);
  while (schedules.size() < kSchedules) {
    const auto [expression, zone] = generator.Next();
    Result<Schedule> schedule = Schedule::Parse(expression, zone);
    if (schedule.ok()) schedules.push_back(*schedule);
  }
  return schedules;
}

// One iteration computes the next fire time of every schedule from one instant; the instant
// moves on by a prime number of seconds each iteration.
void BM_NextFireOfTenThousandSchedules(benchmark::State& state) {
  const std::vector<Schedule> schedules = TenThousandSchedules();
  constexpr int64_t kStep = 7'919'000'000;
  int64_t t = kStart;
  for (auto _ : state) {
    for (const Schedule& schedule : schedules) benchmark::DoNotOptimize(schedule.NextAfter(t));
    t = t + kStep < kStart + kTenYears ? t + kStep : kStart;
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(schedules.size()));
  state.counters["per_schedule"] = benchmark::Counter(
      static_cast<double>(schedules.size()),
      benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_NextFireOfTenThousandSchedules)->Unit(benchmark::kMillisecond);

void BM_Parse(benchmark::State& state) {
  const Case& c = kCases[static_cast<size_t>(state.range(0))];
  SetCaseLabel(state, c);
  for (auto _ : state) benchmark::DoNotOptimize(Schedule::Parse(c.expression, c.zone));
}
BENCHMARK(BM_Parse)->DenseRange(0, kCases.size() - 1);

}  // namespace
}  // namespace petit
