#include "petit/core/job_graph.h"

#include <algorithm>
#include <deque>
#include <iterator>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <utility>

#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/strong_components.hpp>

#include "petit/core/suggest.h"
#include "text.h"

namespace petit {
namespace {

using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::directedS>;
using Vertex = boost::graph_traits<Graph>::vertex_descriptor;

// One usable edge: job `from` depends on job `to` through depends_on[`dependency`].
struct Edge {
  size_t from;
  size_t to;
  size_t dependency;
};

std::string Quoted(const JobId& id) { return internal::Quoted(id.str()); }

// A shortest cycle through `start` inside its component, as vertices from `start` back to it.
std::vector<size_t> ShortestCycleThrough(size_t start, const std::vector<std::vector<Edge>>& out,
                                         const std::vector<int>& component) {
  const int target_component = component[start];
  constexpr size_t kUnseen = SIZE_MAX;
  std::vector<size_t> parent(out.size(), kUnseen);
  std::deque<size_t> queue;
  for (const Edge& edge : out[start]) {
    if (component[edge.to] != target_component || parent[edge.to] != kUnseen) continue;
    parent[edge.to] = start;
    queue.push_back(edge.to);
  }
  while (!queue.empty()) {
    const size_t v = queue.front();
    queue.pop_front();
    if (v == start) break;
    for (const Edge& edge : out[v]) {
      if (component[edge.to] != target_component || parent[edge.to] != kUnseen) continue;
      parent[edge.to] = v;
      queue.push_back(edge.to);
    }
  }
  // `start` is reached: it is in a non-trivial strongly connected component.
  std::vector<size_t> reversed{start};
  for (size_t v = parent[start]; v != start; v = parent[v]) reversed.push_back(v);
  reversed.push_back(start);
  return {reversed.rbegin(), reversed.rend()};
}

}  // namespace

std::vector<JobGraphProblem> CheckJobGraph(std::span<const Job> jobs) {
  std::unordered_map<std::string_view, size_t> index;
  index.reserve(jobs.size());
  for (size_t i = 0; i < jobs.size(); ++i) index.emplace(jobs[i].id.str(), i);

  std::vector<JobGraphProblem> problems;
  std::vector<std::vector<Edge>> out(jobs.size());
  Graph graph(jobs.size());
  std::vector<std::string_view> all_ids;  // for suggestions; filled on the first unknown name
  for (size_t i = 0; i < jobs.size(); ++i) {
    const Job& job = jobs[i];
    for (size_t d = 0; d < job.depends_on.size(); ++d) {
      const JobId& target = job.depends_on[d].job;
      if (target == job.id) {
        problems.push_back({JobGraphProblem::Kind::kSelfDependency,
                            i,
                            d,
                            {},
                            "job " + Quoted(job.id) + " depends on itself"});
        continue;
      }
      const auto it = index.find(target.str());
      if (it == index.end()) {
        if (all_ids.empty()) {
          for (const Job& other : jobs) all_ids.push_back(other.id.str());
        }
        std::string message = "job " + Quoted(job.id) + " depends on unknown job " + Quoted(target);
        if (std::optional<NameGuess> guess = GuessName(target.str(), all_ids)) {
          message += " (did you mean '" + guess->name + "'?)";
        }
        problems.push_back({JobGraphProblem::Kind::kUnknownJob, i, d, {}, std::move(message)});
        continue;
      }
      out[i].push_back({i, it->second, d});
      boost::add_edge(i, it->second, graph);
    }
  }

  std::vector<int> component(jobs.size());
  const int components = boost::strong_components(
      graph,
      boost::make_iterator_property_map(component.begin(), boost::get(boost::vertex_index, graph)));
  // The smallest id of each component with more than one job; self-loops never get here.
  std::vector<size_t> members(static_cast<size_t>(components), 0);
  std::vector<std::optional<size_t>> smallest(static_cast<size_t>(components));
  for (size_t v = 0; v < jobs.size(); ++v) {
    const auto c = static_cast<size_t>(component[v]);
    ++members[c];
    if (!smallest[c] || jobs[v].id < jobs[*smallest[c]].id) smallest[c] = v;
  }
  for (size_t c = 0; c < members.size(); ++c) {
    if (members[c] < 2) continue;
    const size_t start = *smallest[c];
    std::vector<size_t> path = ShortestCycleThrough(start, out, component);
    JobGraphProblem problem;
    problem.kind = JobGraphProblem::Kind::kCycle;
    problem.job = start;
    for (const Edge& edge : out[start]) {
      if (edge.to == path[1]) {
        problem.dependency = edge.dependency;
        break;
      }
    }
    std::string text;
    for (size_t v : path) {
      if (!text.empty()) text += " -> ";
      text += jobs[v].id.str();
      problem.cycle.push_back(jobs[v].id);
    }
    problem.message = "job dependency cycle: " + text;
    problems.push_back(std::move(problem));
  }

  std::stable_sort(problems.begin(), problems.end(),
                   [](const JobGraphProblem& a, const JobGraphProblem& b) {
                     return std::pair(a.job, a.dependency) < std::pair(b.job, b.dependency);
                   });
  return problems;
}

}  // namespace petit
