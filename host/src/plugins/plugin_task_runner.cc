#include "plugins/plugin_task_runner.h"

#include <memory>
#include <string>
#include <utility>

#include "petit/core/mutex.h"
#include "petit/core/thread_annotations.h"
#include "plugins/exec_ctx.h"
#include "plugins/exit_guard.h"

namespace petit::host {
namespace {

petit_str Str(std::string_view s) { return {s.data(), s.size()}; }

struct MappedCode {
  bool known;
  AttemptOutcome outcome;
  std::string_view name;
};

MappedCode MapCode(int32_t code) {
  switch (code) {
    case PETIT_OK:
      return {true, AttemptOutcome::kSucceeded, "PETIT_OK"};
    case PETIT_ERROR:
      return {true, AttemptOutcome::kFailed, "PETIT_ERROR"};
    case PETIT_ERROR_TRANSIENT:
      return {true, AttemptOutcome::kTransientFailure, "PETIT_ERROR_TRANSIENT"};
    case PETIT_CANCELLED:
      return {true, AttemptOutcome::kCancelled, "PETIT_CANCELLED"};
    case PETIT_TIMED_OUT:
      return {true, AttemptOutcome::kTimedOut, "PETIT_TIMED_OUT"};
    case PETIT_INVALID_PARAMS:
      // From create or execute alike: a permanent failure the engine never retries (plugin.h).
      return {true, AttemptOutcome::kInvalidParams, "PETIT_INVALID_PARAMS"};
    default:
      return {false, AttemptOutcome::kFailed, {}};
  }
}

// The result of a create or execute that did not return PETIT_OK. `hook` is "create" or
// "execute"; only this (failure) path allocates.
AttemptResult Unsuccessful(int32_t code, std::string_view hook, petit_exec_ctx& ctx) {
  const MappedCode mapped = MapCode(code);
  AttemptResult result;
  result.outcome = mapped.outcome;
  result.exit_code = ctx.exit_code();
  std::string message = ctx.TakeError();
  const std::string type = "task type '" + std::string(ctx.type_name()) + "'";
  if (!mapped.known) {
    result.error = type + " returned invalid status code " + std::to_string(code) + " from " +
                   std::string(hook);
    if (!message.empty()) result.error += " (its error: " + message + ")";
    return result;
  }
  if (message.empty()) {
    message = type + " returned " + std::string(mapped.name) + " from " + std::string(hook) +
              " without an error message";
  }
  result.error = std::move(message);
  return result;
}

// Passes cancellation to the plugin while its instance is alive. Shared between Run() and the
// cancel hook, because AttemptControl may still run a hook it took before Run() returned; the
// gate then does nothing. Holding mu_ across the plugin's cancel is what keeps destroy (which
// waits in Close) from starting while cancel runs.
class CancelGate {
 public:
  CancelGate(void (*cancel)(petit_task_instance_ptr), petit_task_instance_ptr instance)
      : cancel_(cancel), instance_(instance) {}

  void Cancel() EXCLUDES(mu_) {
    MutexLock lock(mu_);
    if (open_) cancel_(instance_);
  }
  void Close() EXCLUDES(mu_) {
    MutexLock lock(mu_);
    open_ = false;
  }

 private:
  void (*const cancel_)(petit_task_instance_ptr);
  const petit_task_instance_ptr instance_;
  Mutex mu_;
  bool open_ GUARDED_BY(mu_) = true;
};

}  // namespace

PluginTaskRunner::PluginTaskRunner(std::shared_ptr<const LoadedPlugin> plugin,
                                   const PluginTaskType& type, bool trusted)
    : plugin_(std::move(plugin)), type_(&type), trusted_(trusted) {}

bool PluginTaskRunner::serial() const { return (type_->abi.flags & PETIT_TASK_SERIAL) != 0; }

AttemptResult PluginTaskRunner::Run(const AttemptRequest& request, AttemptControl& control) {
  const petit_task_type& abi = type_->abi;
  const RunningAttempt running(request);  // named if the plugin calls exit() (exit_guard.h)
  petit_exec_ctx ctx(request, control, type_->info.name);

  // Every view borrows from `request`, which outlives destroy.
  petit_task_info info{};
  info.struct_size = sizeof info;
  info.attempt = request.attempt;
  info.job_id = Str(request.job.str());
  info.run_id = Str(request.run.str());
  info.task_id = Str(request.task.str());
  info.params_json = Str(request.params_json);
  info.timeout_ms = request.timeout.count();

  petit_task_instance_ptr instance = nullptr;
  const int32_t created = abi.create(abi.type_state, &info, &ctx, &instance);
  if (created != PETIT_OK) {
    ctx.Finish();
    return Unsuccessful(created, "create", ctx);
  }

  // Only cancellable types pay for the gate: the success path's only allocations (the gate and
  // the hook that shares it).
  std::shared_ptr<CancelGate> gate;
  if (abi.cancel != nullptr) {
    gate = std::make_shared<CancelGate>(abi.cancel, instance);
    control.OnCancel([gate] { gate->Cancel(); });
  }
  const int32_t executed = abi.execute(instance, &ctx);
  ctx.Finish();
  if (gate != nullptr) gate->Close();
  if (abi.destroy != nullptr) abi.destroy(instance);

  if (executed != PETIT_OK) return Unsuccessful(executed, "execute", ctx);
  AttemptResult result;
  result.outcome = AttemptOutcome::kSucceeded;
  result.exit_code = ctx.exit_code();
  return result;
}

Result<std::shared_ptr<TaskRunner>> MakePluginTaskRunner(std::shared_ptr<const LoadedPlugin> plugin,
                                                         std::string_view name) {
  const PluginTaskType* type = plugin->FindTaskType(name);
  if (type == nullptr) {
    return NotFound("plugin '" + plugin->name() + "' (" + plugin->file() + ") has no task type '" +
                    std::string(name) + "'");
  }
  return std::shared_ptr<TaskRunner>(std::make_shared<PluginTaskRunner>(std::move(plugin), *type));
}

Status RegisterPluginTaskTypes(const PluginLoadResult& plugins, TaskRunnerRegistry& registry) {
  for (const auto& plugin : plugins.plugins) {
    for (const PluginTaskType& type : plugin->task_types()) {
      PETIT_RETURN_IF_ERROR(
          registry.Register(type.info.name, std::make_shared<PluginTaskRunner>(plugin, type)));
    }
  }
  return Status::Ok();
}

}  // namespace petit::host
