// The task graph of a job as Graphviz dot, for `petit graph`: one node per task, labelled with its
// id, display name (when it differs), task type, pool slots and non-default trigger rule; one edge
// per dependency, from the upstream task to the task that waits on it. The edges into a task whose
// trigger rule is not all_success are drawn differently (on_failure red and dashed, all_done
// dashed, always dotted), so the branches that run on failure stand out.
//
// Boost.Graph writes the graph (job_graph_dot.cc); this header does not pull it in.
// Threads: pure functions; any thread.
#ifndef PETIT_HOST_CLI_JOB_GRAPH_DOT_H_
#define PETIT_HOST_CLI_JOB_GRAPH_DOT_H_

#include <string>
#include <string_view>

#include "petit/core/job.h"

namespace petit::host {

// `text` as a quoted dot string for a label: `"` and `\` escaped, line breaks as dot's `\n`, `&`
// as `&amp;` (Graphviz reads entities in labels), and every byte that is not valid UTF-8 or is
// another control character shown as U+FFFD. Graphviz displays exactly `text` from it.
std::string DotQuoted(std::string_view text);

// The whole `digraph` of `job`, whose Dag must be validated. Node names are task indices ("0",
// "1", ... in file order); the ids are in the labels, so no id can break the syntax, and in the
// node's `id` attribute as "task-<id>" (the SVG element's id).
std::string JobGraphDot(const Job& job);

}  // namespace petit::host

#endif  // PETIT_HOST_CLI_JOB_GRAPH_DOT_H_
