// `petit graph DIR JOB [--format dot|svg]`: the task graph of one job, as Graphviz dot or as SVG
// laid out by Graphviz's library.
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "cli/commands.h"
#include "cli/graphviz_svg.h"
#include "cli/job_graph_dot.h"
#include "petit/core/suggest.h"
#include "petit/host/exit_codes.h"
#include "runtime/load_jobs.h"

namespace petit::host {

int CmdGraph(const Args& args, std::unique_ptr<HostEnv> env) {
  const std::string& dir = args.operands[0];
  const std::string& job_id = args.operands[1];
  LoadedJobs loaded = LoadHostJobs(*env, dir);
  if (DeclaredTwice(loaded, job_id)) {
    ReportLoad(loaded);
    PrintError(DeclaredTwiceMessage(job_id, dir));
    return kExitUsage;
  }
  const Job* job = nullptr;
  std::vector<std::string_view> ids;
  for (const Job& candidate : loaded.jobs) {
    if (candidate.id.str() == job_id) job = &candidate;
    ids.push_back(candidate.id.str());
  }
  if (job == nullptr) {
    // One line: the graph of another job is what the user wanted, or the job's file is broken.
    std::string message = "no valid job '" + job_id + "' in " + dir;
    if (auto close = ClosestMatch(job_id, ids)) message += " (did you mean '" + *close + "'?)";
    if (!loaded.errors.empty()) {
      message += "; " + std::to_string(loaded.errors.size()) +
                 (loaded.errors.size() == 1 ? " error" : " errors") +
                 " in its job files (`petit "
                 "validate " +
                 dir + "` lists them)";
    }
    PrintError(message);
    return kExitUsage;
  }
  const std::string dot = JobGraphDot(*job);
  if (args.graph_format == "svg") {
    Result<std::string> svg = DotToSvg(dot);
    if (!svg.ok()) {
      PrintError(svg.status().message());
      return kExitHostError;
    }
    std::cout << *svg;
  } else {
    std::cout << dot;
  }
  std::cout.flush();
  return std::cout ? kExitOk : kExitHostError;
}

}  // namespace petit::host
