#include "petit/core/dag.h"

#include <algorithm>
#include <cassert>
#include <cstdint>
#include <queue>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "text.h"

namespace petit {
namespace {

std::string Quoted(const TaskId& id) { return internal::Quoted(id.str()); }

}  // namespace

struct Dag::Impl {
  // Build state.
  std::vector<TaskSpec> tasks;  // first definition of each id, in insertion order
  std::unordered_map<TaskId, Index> index;
  std::vector<Index> duplicated;           // tasks defined more than once, in order first repeated
  std::vector<uint32_t> definition_count;  // indexed like tasks
  // Dependencies added for tasks not (yet) added; AddTask() moves them into the spec.
  std::unordered_map<TaskId, std::vector<TaskId>> early_dependencies;
  std::vector<TaskId> early_dependency_order;

  // Filled by a successful Validate().
  bool validated = false;
  std::vector<std::vector<Index>> upstream;
  std::vector<std::vector<Index>> downstream;
  std::vector<Index> topological_order;
  std::vector<Index> topological_position;

  void ResetAnalysis() {
    upstream.assign(tasks.size(), {});
    downstream.assign(tasks.size(), {});
    topological_order.clear();
    topological_position.clear();
  }

  // Records every valid edge and reports the bad ones: O(V + E) with one hash lookup per edge.
  void LinkDependencies(std::vector<std::string>& errors) {
    const auto n = static_cast<Index>(tasks.size());
    constexpr Index kNone = UINT32_MAX;
    std::vector<Index> listed_by(n, kNone);    // upstream -> last task seen listing it
    std::vector<Index> reported_by(n, kNone);  // upstream -> last task reported for repeating it
    for (Index v = 0; v < n; ++v) {
      const TaskSpec& spec = tasks[v];
      upstream[v].reserve(spec.depends_on.size());
      bool self_reported = false;
      for (const TaskId& dependency : spec.depends_on) {
        if (dependency == spec.id) {
          if (!self_reported) errors.push_back("task " + Quoted(spec.id) + " depends on itself");
          self_reported = true;
          continue;
        }
        const auto it = index.find(dependency);
        if (it == index.end()) {
          errors.push_back("task " + Quoted(spec.id) + " depends on unknown task " +
                           Quoted(dependency));
          continue;
        }
        const Index u = it->second;
        if (listed_by[u] == v) {
          if (reported_by[u] != v) {
            errors.push_back("task " + Quoted(spec.id) + " lists dependency " + Quoted(dependency) +
                             " more than once");
          }
          reported_by[u] = v;
          continue;
        }
        listed_by[u] = v;
        upstream[v].push_back(u);
        downstream[u].push_back(v);
      }
    }
  }

  // One cycle, written in dependency direction ("a -> b": a depends on b) and rotated to start at
  // the task that comes first in the file, so the same file always gives the same message. The
  // search is depth-first from each task in file order, following each task's dependencies in the
  // order written, without recursion (a chain of 100,000 tasks must not exhaust the stack), and in
  // O(V + E) time and 8 bytes per task beyond the graph. The cycle is the first back edge met:
  // from its target along the path of the search.
  std::optional<std::string> FindCycle() const {
    const auto n = static_cast<Index>(tasks.size());
    enum Color : uint8_t { kWhite, kGray, kBlack };
    std::vector<uint8_t> color(n, kWhite);
    std::vector<std::pair<Index, uint32_t>> path;  // the gray tasks, and their next dependency
    std::vector<Index> cycle;
    for (Index root = 0; root < n && cycle.empty(); ++root) {
      if (color[root] != kWhite) continue;
      color[root] = kGray;
      path.emplace_back(root, 0);
      while (!path.empty() && cycle.empty()) {
        auto& [v, next] = path.back();
        if (next == upstream[v].size()) {
          color[v] = kBlack;
          path.pop_back();
          continue;
        }
        const Index u = upstream[v][next++];
        if (color[u] == kWhite) {
          color[u] = kGray;
          path.emplace_back(u, 0);
        } else if (color[u] == kGray) {
          auto start =
              std::find_if(path.begin(), path.end(),
                           [u](const std::pair<Index, uint32_t>& p) { return p.first == u; });
          assert(start != path.end() && "a gray task is on the path");
          for (; start != path.end(); ++start) cycle.push_back(start->first);
        }
      }
    }
    if (cycle.empty()) return std::nullopt;
    std::rotate(cycle.begin(), std::min_element(cycle.begin(), cycle.end()), cycle.end());
    std::string path_text;
    for (const Index v : cycle) path_text += tasks[v].id.str() + " -> ";
    path_text += tasks[cycle.front()].id.str();
    return "dependency cycle: " + path_text;
  }

  // Kahn's algorithm with a heap for the tie-break (higher priority, then insertion order); the
  // heap makes it O((V + E) log V), which any order with such tie-breaks needs.
  void ComputeTopologicalOrder() {
    const auto n = static_cast<Index>(tasks.size());
    auto runs_later = [this](Index a, Index b) {
      if (tasks[a].priority != tasks[b].priority) return tasks[a].priority < tasks[b].priority;
      return a > b;
    };
    std::priority_queue<Index, std::vector<Index>, decltype(runs_later)> ready(runs_later);
    std::vector<size_t> waiting_on(n);
    for (Index v = 0; v < n; ++v) {
      waiting_on[v] = upstream[v].size();
      if (waiting_on[v] == 0) ready.push(v);
    }
    topological_order.reserve(n);
    topological_position.assign(n, 0);
    while (!ready.empty()) {
      const Index v = ready.top();
      ready.pop();
      topological_position[v] = static_cast<Index>(topological_order.size());
      topological_order.push_back(v);
      for (const Index w : downstream[v]) {
        if (--waiting_on[w] == 0) ready.push(w);
      }
    }
    assert(topological_order.size() == n && "FindCycle() ran first and found none");
  }
};

Dag::Dag(DagId id) : id_(std::move(id)), impl_(std::make_unique<Impl>()) {}
Dag::~Dag() = default;
Dag::Dag(Dag&&) noexcept = default;
Dag& Dag::operator=(Dag&&) noexcept = default;
Dag::Dag(const Dag& other)
    : id_(other.id_), impl_(other.impl_ ? std::make_unique<Impl>(*other.impl_) : nullptr) {}
Dag& Dag::operator=(const Dag& other) {
  if (this == &other) return *this;
  id_ = other.id_;
  impl_ = other.impl_ ? std::make_unique<Impl>(*other.impl_) : nullptr;
  return *this;
}

void Dag::Reserve(size_t tasks) {
  impl_->tasks.reserve(tasks);
  impl_->index.reserve(tasks);
  impl_->definition_count.reserve(tasks);
}

void Dag::AddTask(TaskSpec spec) {
  assert(!impl_->validated && "a validated Dag is frozen");
  Impl& impl = *impl_;
  const auto existing = impl.index.find(spec.id);
  if (existing != impl.index.end()) {
    if (impl.definition_count[existing->second]++ == 1) impl.duplicated.push_back(existing->second);
    return;
  }
  const auto early = impl.early_dependencies.find(spec.id);
  if (early != impl.early_dependencies.end()) {
    spec.depends_on.insert(spec.depends_on.end(), early->second.begin(), early->second.end());
    impl.early_dependencies.erase(early);
  }
  const auto i = static_cast<Index>(impl.tasks.size());
  impl.index.emplace(spec.id, i);
  impl.tasks.push_back(std::move(spec));
  impl.definition_count.push_back(1);
}

void Dag::AddDependency(const TaskId& task, const TaskId& upstream) {
  assert(!impl_->validated && "a validated Dag is frozen");
  Impl& impl = *impl_;
  const auto it = impl.index.find(task);
  if (it != impl.index.end()) {
    impl.tasks[it->second].depends_on.push_back(upstream);
    return;
  }
  auto [early, inserted] = impl.early_dependencies.try_emplace(task);
  if (inserted) impl.early_dependency_order.push_back(task);
  early->second.push_back(upstream);
}

Status Dag::Validate() {
  Impl& impl = *impl_;
  if (impl.validated) return Status::Ok();
  impl.ResetAnalysis();

  std::vector<std::string> errors;
  for (const TaskSpec& spec : impl.tasks) {
    const Status name = ValidateName(spec.id.str(), "task id");
    if (!name.ok()) errors.push_back(name.message());
  }
  for (const Index i : impl.duplicated) {
    errors.push_back("task id " + Quoted(impl.tasks[i].id) + " is defined " +
                     std::to_string(impl.definition_count[i]) + " times");
  }
  for (const TaskId& task : impl.early_dependency_order) {
    const auto it = impl.early_dependencies.find(task);
    if (it == impl.early_dependencies.end()) continue;
    for (const TaskId& upstream : it->second) {
      errors.push_back("a dependency on " + Quoted(upstream) + " was added to unknown task " +
                       Quoted(task));
    }
  }
  impl.LinkDependencies(errors);
  const bool only_cycles = errors.empty();
  if (auto cycle = impl.FindCycle()) errors.push_back(*std::move(cycle));

  if (!errors.empty()) {
    std::string message;
    for (const std::string& error : errors) {
      if (!message.empty()) message += '\n';
      message += error;
    }
    return only_cycles ? FailedPrecondition(std::move(message))
                       : InvalidArgument(std::move(message));
  }
  impl.ComputeTopologicalOrder();
  impl.validated = true;
  return Status::Ok();
}

bool Dag::validated() const { return impl_->validated; }

size_t Dag::size() const { return impl_->tasks.size(); }

const TaskSpec& Dag::task(Index i) const {
  assert(i < impl_->tasks.size());
  return impl_->tasks[i];
}

std::optional<Dag::Index> Dag::IndexOf(const TaskId& id) const {
  const auto it = impl_->index.find(id);
  if (it == impl_->index.end()) return std::nullopt;
  return it->second;
}

const std::vector<Dag::Index>& Dag::Upstream(Index i) const {
  assert(impl_->validated && i < impl_->upstream.size());
  return impl_->upstream[i];
}

const std::vector<Dag::Index>& Dag::Downstream(Index i) const {
  assert(impl_->validated && i < impl_->downstream.size());
  return impl_->downstream[i];
}

const std::vector<Dag::Index>& Dag::TopologicalOrder() const {
  assert(impl_->validated);
  return impl_->topological_order;
}

std::vector<Dag::Index> Dag::TransitiveDownstream(Index i) const {
  assert(impl_->validated && i < impl_->tasks.size());
  std::vector<bool> seen(impl_->tasks.size(), false);
  std::vector<Index> reached;
  std::vector<Index> frontier{i};
  while (!frontier.empty()) {
    const Index v = frontier.back();
    frontier.pop_back();
    for (const Index w : impl_->downstream[v]) {
      if (seen[w]) continue;
      seen[w] = true;
      reached.push_back(w);
      frontier.push_back(w);
    }
  }
  const auto& position = impl_->topological_position;
  std::sort(reached.begin(), reached.end(),
            [&position](Index a, Index b) { return position[a] < position[b]; });
  return reached;
}

std::vector<Dag::Index> Dag::ReadyTasks(const std::vector<TaskState>& states) const {
  assert(impl_->validated && states.size() == impl_->tasks.size());
  std::vector<Index> ready;
  for (Index v = 0; v < states.size(); ++v) {
    if (states[v] != TaskState::kPending) continue;
    const auto& upstream = impl_->upstream[v];
    const bool all_succeeded = std::all_of(upstream.begin(), upstream.end(), [&states](Index u) {
      return states[u] == TaskState::kSucceeded;
    });
    if (all_succeeded) ready.push_back(v);
  }
  return ready;
}

std::vector<Dag::Index> Dag::Roots() const {
  assert(impl_->validated);
  std::vector<Index> roots;
  for (Index v = 0; v < impl_->upstream.size(); ++v) {
    if (impl_->upstream[v].empty()) roots.push_back(v);
  }
  return roots;
}

std::vector<Dag::Index> Dag::Leaves() const {
  assert(impl_->validated);
  std::vector<Index> leaves;
  for (Index v = 0; v < impl_->downstream.size(); ++v) {
    if (impl_->downstream[v].empty()) leaves.push_back(v);
  }
  return leaves;
}

}  // namespace petit
