// RunContext: the key-value data a run passes downstream.
//
// Outputs are namespaced "<task_id>.<key>" so two tasks cannot overwrite each other. A task's
// outputs are merged only when that task succeeds (an attempt that fails leaves nothing behind).
// Job config values are read-only and shared by every task of the run.
//
// Threads: a RunContext is owned by the run's coordinator. Snapshot() returns an immutable copy
// that task attempts read from worker threads without locking.
#ifndef PETIT_CORE_CONTEXT_H_
#define PETIT_CORE_CONTEXT_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "petit/core/ids.h"
#include "petit/core/status.h"

namespace petit {

using ValueMap = std::map<std::string, std::string, std::less<>>;

// Validates an output key written by a task: non-empty, no '.', no control characters.
Status ValidateOutputKey(std::string_view key);

// "<task>.<key>"
std::string NamespacedKey(const TaskId& task, std::string_view key);

class RunContext {
 public:
  explicit RunContext(std::shared_ptr<const ValueMap> config = nullptr);

  // Merges the outputs of a task that succeeded; keys are the task's own (un-namespaced) keys.
  // Fails without changing anything when a key is invalid.
  Status MergeOutputs(const TaskId& task, const ValueMap& outputs);

  std::optional<std::string_view> Get(std::string_view namespaced_key) const;
  std::optional<std::string_view> GetConfig(std::string_view key) const;

  const ValueMap& values() const { return *values_; }
  const ValueMap& config() const { return *config_; }

  // An immutable view of the values merged so far; cheap (shares storage until the next merge).
  std::shared_ptr<const ValueMap> Snapshot() const { return values_; }
  std::shared_ptr<const ValueMap> ConfigPtr() const { return config_; }

 private:
  std::shared_ptr<const ValueMap> values_;
  std::shared_ptr<const ValueMap> config_;
};

}  // namespace petit

#endif  // PETIT_CORE_CONTEXT_H_
