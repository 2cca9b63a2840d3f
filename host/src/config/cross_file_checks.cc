#include "config/cross_file_checks.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <set>
#include <utility>

#include "petit/core/job_graph.h"

namespace petit::host::internal {
namespace {

Diagnostic At(const std::string& file, const YamlMark& mark, std::string key, std::string message) {
  Diagnostic diagnostic{file, 0, 0, std::move(key), std::move(message)};
  if (!mark.is_null()) {
    diagnostic.line = static_cast<uint32_t>(mark.line + 1);
    diagnostic.column = static_cast<uint32_t>(mark.column + 1);
  }
  return diagnostic;
}

std::string Location(const std::string& file, const YamlMark& mark) {
  if (mark.is_null()) return file;
  return file + ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
}

// Keeps the first job of each id; every later declaration is one error naming both files.
void RemoveDuplicateIds(const std::vector<Declaration>& declarations, LoadedJobs& out,
                        std::vector<JobMarks>& marks) {
  std::map<std::string, const Declaration*> first;
  std::vector<bool> keep(out.jobs.size(), true);
  for (const Declaration& declaration : declarations) {
    auto [it, inserted] = first.emplace(declaration.id, &declaration);
    if (inserted) continue;
    const Declaration& original = *it->second;
    out.errors.push_back(At(declaration.file, declaration.mark, "id",
                            "job id '" + declaration.id + "' is already used by " +
                                Location(original.file, original.mark)));
    if (declaration.job) keep[*declaration.job] = false;
    auto at = std::lower_bound(out.duplicate_ids.begin(), out.duplicate_ids.end(), declaration.id);
    if (at == out.duplicate_ids.end() || *at != declaration.id) {
      out.duplicate_ids.insert(at, declaration.id);
    }
  }
  std::vector<Job> jobs;
  std::vector<JobMarks> kept_marks;
  for (size_t i = 0; i < out.jobs.size(); ++i) {
    if (!keep[i]) continue;
    jobs.push_back(std::move(out.jobs[i]));
    kept_marks.push_back(std::move(marks[i]));
  }
  out.jobs = std::move(jobs);
  marks = std::move(kept_marks);
}

// Job dependencies across the directory (core/job_graph.h). A job with a problem is dropped, and so
// is, transitively, every job that depends on a dropped one: it could never be scheduled.
void CheckJobDependencies(const std::set<std::string>& broken_ids, LoadedJobs& out,
                          std::vector<JobMarks>& marks) {
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < out.jobs.size(); ++i) index.emplace(out.jobs[i].id.str(), i);
  std::vector<bool> keep(out.jobs.size(), true);
  for (const JobGraphProblem& problem : CheckJobGraph(out.jobs)) {
    const Job& job = out.jobs[problem.job];
    const JobMarks& where = marks[problem.job];
    std::string message = problem.message;
    const std::string& target = job.depends_on[problem.dependency].job.str();
    if (problem.kind == JobGraphProblem::Kind::kUnknownJob && broken_ids.count(target)) {
      message = "job '" + job.id.str() + "' depends on job '" + target + "', which has errors";
    }
    out.errors.push_back(At(job.source_file, where.dependencies[problem.dependency],
                            where.dependency_keys[problem.dependency], std::move(message)));
    keep[problem.job] = false;
    for (const JobId& member : problem.cycle) keep[index.at(member.str())] = false;
  }
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t i = 0; i < out.jobs.size(); ++i) {
      if (!keep[i]) continue;
      const Job& job = out.jobs[i];
      for (size_t d = 0; d < job.depends_on.size(); ++d) {
        auto it = index.find(job.depends_on[d].job.str());
        if (it == index.end() || keep[it->second]) continue;
        out.errors.push_back(At(job.source_file, marks[i].dependencies[d],
                                marks[i].dependency_keys[d],
                                "job '" + job.id.str() + "' depends on job '" +
                                    job.depends_on[d].job.str() + "', which has errors"));
        keep[i] = false;
        changed = true;
        break;
      }
    }
  }
  std::vector<Job> jobs;
  std::vector<JobMarks> kept_marks;
  for (size_t i = 0; i < out.jobs.size(); ++i) {
    if (!keep[i]) continue;
    jobs.push_back(std::move(out.jobs[i]));
    kept_marks.push_back(std::move(marks[i]));
  }
  out.jobs = std::move(jobs);
  marks = std::move(kept_marks);
}

}  // namespace

void CheckAcrossFiles(const std::vector<Declaration>& declarations, LoadedJobs& loaded,
                      std::vector<JobMarks>& marks) {
  // Ids declared by files with errors: a dependency on one says so instead of "unknown job".
  std::set<std::string> broken_ids;
  for (const Declaration& declaration : declarations) {
    if (!declaration.job) broken_ids.insert(declaration.id);
  }
  RemoveDuplicateIds(declarations, loaded, marks);
  CheckJobDependencies(broken_ids, loaded, marks);
}

}  // namespace petit::host::internal
