// RunContext: the key-value data a run passes downstream.
//
// Outputs are namespaced "<task_id>.<key>" so two tasks cannot overwrite each other. A task's
// outputs are merged only when that task succeeds (an attempt that fails leaves nothing behind).
// Job config values are read-only and shared by every task of the run.
//
// Threads: a RunContext is owned by the run's coordinator. Its RunOutputs is shared with the
// attempts, which read it from worker threads while the coordinator adds to it (see RunOutputs).
#ifndef PETIT_CORE_CONTEXT_H_
#define PETIT_CORE_CONTEXT_H_

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "petit/core/ids.h"
#include "petit/core/mutex.h"
#include "petit/core/status.h"
#include "petit/core/thread_annotations.h"

namespace petit {

using ValueMap = std::map<std::string, std::string, std::less<>>;

// Validates an output key written by a task: non-empty, no '.', no control characters.
Status ValidateOutputKey(std::string_view key);

// "<task>.<key>"
std::string NamespacedKey(const TaskId& task, std::string_view key);

// The outputs of the tasks of one run that succeeded. Append-only: a task's outputs are added
// once and never change afterwards, so adding costs O(log tasks) however many outputs the run
// already holds, and a view returned by Get() or OutputsOf() stays valid as long as the RunOutputs.
// Threads: Add() from one thread (the coordinator) while any number of threads read; reads take a
// shared lock for the lookup only.
class RunOutputs {
 public:
  // Adds the outputs of a task that succeeded (un-namespaced keys). Fails without changing
  // anything when a key is invalid or the task's outputs were already added.
  Status Add(const TaskId& task, const ValueMap& outputs) EXCLUDES(mu_);

  // Looks up "<task>.<key>" (split at the last '.', since keys never contain one).
  std::optional<std::string_view> Get(std::string_view namespaced_key) const EXCLUDES(mu_);
  // The outputs of one task, or nullptr when it has none.
  const ValueMap* OutputsOf(std::string_view task) const EXCLUDES(mu_);
  size_t size() const EXCLUDES(mu_);  // outputs of every task together
  // Calls f(task, outputs) for every task with outputs, in task order, under the shared lock
  // (f must not call back into this RunOutputs). For copying a run's outputs into another
  // process (plugin process isolation).
  void ForEach(const std::function<void(std::string_view, const ValueMap&)>& f) const EXCLUDES(mu_);

 private:
  mutable SharedMutex mu_;
  std::map<std::string, std::unique_ptr<const ValueMap>, std::less<>> by_task_ GUARDED_BY(mu_);
  size_t count_ GUARDED_BY(mu_) = 0;
};

class RunContext {
 public:
  explicit RunContext(std::shared_ptr<const ValueMap> config = nullptr);

  // Adds the outputs of a task that succeeded; see RunOutputs::Add.
  Status MergeOutputs(const TaskId& task, const ValueMap& outputs) {
    return outputs_->Add(task, outputs);
  }

  std::optional<std::string_view> Get(std::string_view namespaced_key) const {
    return outputs_->Get(namespaced_key);
  }
  std::optional<std::string_view> GetConfig(std::string_view key) const;

  const RunOutputs& outputs() const { return *outputs_; }
  const ValueMap& config() const { return *config_; }

  // Shared with attempts: they read upstream outputs through it while the run goes on.
  std::shared_ptr<const RunOutputs> OutputsPtr() const { return outputs_; }
  std::shared_ptr<const ValueMap> ConfigPtr() const { return config_; }

 private:
  std::shared_ptr<RunOutputs> outputs_;
  std::shared_ptr<const ValueMap> config_;
};

}  // namespace petit

#endif  // PETIT_CORE_CONTEXT_H_
