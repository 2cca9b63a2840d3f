// Dag build + Validate() + TopologicalOrder() on the shapes the end-to-end benchmarks use.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "petit/core/dag.h"
#include "petit/core/ids.h"
#include "petit/core/task_spec.h"

namespace petit {
namespace {

constexpr uint32_t kSeed = 42;
constexpr int kFanIn = 4;

TaskId Name(int i) {
  std::string name = "t";
  name.append(std::to_string(i));
  return TaskId(std::move(name));
}

// `layers` layers of `width` tasks; each task depends on kFanIn tasks of the layer before.
std::vector<TaskSpec> Layered(int layers, int width) {
  std::mt19937 rng(kSeed);
  std::uniform_int_distribution<int> pick(0, width - 1);
  std::vector<TaskSpec> specs;
  specs.reserve(static_cast<size_t>(layers) * static_cast<size_t>(width));
  for (int layer = 0; layer < layers; ++layer) {
    for (int column = 0; column < width; ++column) {
      TaskSpec spec;
      spec.id = Name(layer * width + column);
      if (layer > 0) {
        std::vector<int> picked;
        while (picked.size() < static_cast<size_t>(std::min(kFanIn, width))) {
          const int candidate = pick(rng);
          if (std::find(picked.begin(), picked.end(), candidate) != picked.end()) continue;
          picked.push_back(candidate);
          spec.depends_on.push_back(Name((layer - 1) * width + candidate));
        }
      }
      specs.push_back(std::move(spec));
    }
  }
  return specs;
}

// `size` tasks, each depending on up to kFanIn distinct random earlier tasks, added in shuffled
// order so most dependencies are forward references.
std::vector<TaskSpec> Random(int size) {
  std::mt19937 rng(kSeed);
  std::vector<TaskSpec> specs(static_cast<size_t>(size));
  for (int i = 0; i < size; ++i) {
    TaskSpec& spec = specs[static_cast<size_t>(i)];
    spec.id = Name(i);
    spec.priority = static_cast<int32_t>(rng() % 3);
    if (i == 0) continue;
    std::uniform_int_distribution<int> pick(0, i - 1);
    const int fan_in = std::min(kFanIn, i);
    for (int k = 0; k < fan_in; ++k) {
      const TaskId upstream = Name(pick(rng));
      if (std::find(spec.depends_on.begin(), spec.depends_on.end(), upstream) ==
          spec.depends_on.end()) {
        spec.depends_on.push_back(upstream);
      }
    }
  }
  std::shuffle(specs.begin(), specs.end(), rng);
  return specs;
}

void BuildValidateOrder(benchmark::State& state, const std::vector<TaskSpec>& specs) {
  size_t edges = 0;
  for (const TaskSpec& spec : specs) edges += spec.depends_on.size();
  for (auto _ : state) {
    Dag dag;
    for (const TaskSpec& spec : specs) dag.AddTask(spec);
    const Status status = dag.Validate();
    if (!status.ok()) {
      state.SkipWithError(status.ToString().c_str());
      return;
    }
    benchmark::DoNotOptimize(dag.TopologicalOrder().data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(specs.size()));
  state.counters["tasks"] = static_cast<double>(specs.size());
  state.counters["edges"] = static_cast<double>(edges);
}

void BM_DagLayered100x100(benchmark::State& state) {
  static const std::vector<TaskSpec> specs = Layered(100, 100);
  BuildValidateOrder(state, specs);
}
BENCHMARK(BM_DagLayered100x100)->Unit(benchmark::kMillisecond);

void BM_DagRandom10000(benchmark::State& state) {
  static const std::vector<TaskSpec> specs = Random(10000);
  BuildValidateOrder(state, specs);
}
BENCHMARK(BM_DagRandom10000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace petit
