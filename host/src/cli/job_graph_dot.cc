#include "cli/job_graph_dot.h"

// GCC 12 at -O3 warns that write_graphviz's edge iterator "may be used uninitialized" inside
// Boost's own headers (a false positive of its optional<pair<iterator>>); -Werror would fail the
// release build on it.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/graphviz.hpp>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

#include <sstream>
#include <string>
#include <vector>

#include "petit/core/utf8.h"

namespace petit::host {
namespace {

using TaskGraph = boost::adjacency_list<boost::vecS, boost::vecS, boost::directedS>;

struct RuleStyle {
  std::string_view edge;  // of the edges into the task
  std::string_view node;  // of its box
};

// How a task with this trigger rule and the edges into it are drawn; empty for all_success.
RuleStyle StyleOf(TriggerRule rule) {
  switch (rule) {
    case TriggerRule::kAllSuccess:
      return {"", ""};
    case TriggerRule::kOnFailure:
      return {"style=dashed, color=red", "style=\"rounded,dashed\", color=red"};
    case TriggerRule::kAllDone:
      return {"style=dashed", "style=\"rounded,dashed\""};
    case TriggerRule::kAlways:
      return {"style=dotted", "style=\"rounded,dotted\""};
  }
  return {"", ""};
}

std::string NodeLabel(const TaskSpec& task) {
  std::string label = task.id.str();
  if (!task.name.empty() && task.name != task.id.str()) label += "\n(" + task.name + ")";
  label += "\n" + task.type;
  for (const auto& [pool, slots] : task.resources.slots) {
    label += "\npool " + pool;
    if (slots != 1) label += " x" + std::to_string(slots);
  }
  if (task.resources.cpu_slots != 0) label += "\ncpu " + std::to_string(task.resources.cpu_slots);
  if (task.resources.memory_mb != 0) {
    label += "\nmemory " + std::to_string(task.resources.memory_mb) + " MB";
  }
  if (task.trigger != TriggerRule::kAllSuccess) {
    label += "\ntrigger " + std::string(TriggerRuleName(task.trigger));
  }
  return label;
}

struct NodeWriter {
  const Dag* dag;
  void operator()(std::ostream& out, TaskGraph::vertex_descriptor v) const {
    const TaskSpec& task = dag->task(static_cast<Dag::Index>(v));
    // The SVG element of the task is "task-<id>", so a page can find it (ids are checked names).
    out << " [label=" << DotQuoted(NodeLabel(task))
        << ", id=" << DotQuoted("task-" + task.id.str());
    if (task.trigger != TriggerRule::kAllSuccess) out << ", " << StyleOf(task.trigger).node;
    out << "]";
  }
};

struct EdgeWriter {
  const Dag* dag;
  const TaskGraph* graph;
  void operator()(std::ostream& out, TaskGraph::edge_descriptor e) const {
    const TaskSpec& downstream = dag->task(static_cast<Dag::Index>(boost::target(e, *graph)));
    if (downstream.trigger == TriggerRule::kAllSuccess) return;
    out << "[" << StyleOf(downstream.trigger).edge
        << ", tooltip=" << DotQuoted(std::string(TriggerRuleName(downstream.trigger))) << "]";
  }
};

struct GraphWriter {
  const Job* job;
  void operator()(std::ostream& out) const {
    std::string title = "job " + job->id.str();
    if (!job->name.empty() && job->name != job->id.str()) title += " (" + job->name + ")";
    out << "graph [label=" << DotQuoted(title) << ", labelloc=t];\n"
        << "node [shape=box, style=rounded];\n";
  }
};

}  // namespace

std::string DotQuoted(std::string_view text) {
  std::string out = "\"";
  out.reserve(text.size() + 2);
  for (size_t i = 0; i < text.size();) {
    const size_t length = Utf8SequenceLength(text, i);
    const char c = text[i];
    if (length == 0) {
      out += kUtf8ReplacementCharacter;
      ++i;
      continue;
    }
    if (length > 1) {
      out.append(text.substr(i, length));
      i += length;
      continue;
    }
    ++i;
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '&') {
      out += "&amp;";
    } else if (c == '\r') {
      if (i < text.size() && text[i] == '\n') ++i;  // CRLF is one break
      out += "\\n";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += ' ';
    } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      out += kUtf8ReplacementCharacter;
    } else {
      out += c;
    }
  }
  out += '"';
  return out;
}

std::string JobGraphDot(const Job& job) {
  const Dag& dag = job.dag;
  TaskGraph graph(dag.size());
  for (Dag::Index i = 0; i < dag.size(); ++i) {
    for (Dag::Index downstream : dag.Downstream(i)) boost::add_edge(i, downstream, graph);
  }
  std::ostringstream out;
  boost::write_graphviz(out, graph, NodeWriter{&dag}, EdgeWriter{&dag, &graph}, GraphWriter{&job});
  return out.str();
}

}  // namespace petit::host
