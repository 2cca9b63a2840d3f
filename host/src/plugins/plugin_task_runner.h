// PluginTaskRunner: core's TaskRunner port for one task type a plugin declares. Run() drives one
// attempt through the ABI (create -> execute -> destroy) and bridges the host services the plugin
// calls to the attempt's AttemptControl.
//
// Ownership: a runner shares ownership of its LoadedPlugin, so the library stays loaded (and its
// shutdown hook unrun) while any runner exists, whoever else has let go of it.
// Threads: Run() may be called concurrently for different attempts, as TaskRunner allows; serial()
// reports PETIT_TASK_SERIAL so the engine keeps such types to one attempt at a time. The cancel
// hook registered with AttemptControl::OnCancel forwards to the type's cancel on whatever thread
// cancels, and never once destroy may have started.
#ifndef PETIT_HOST_PLUGINS_PLUGIN_TASK_RUNNER_H_
#define PETIT_HOST_PLUGINS_PLUGIN_TASK_RUNNER_H_

#include <memory>
#include <string_view>

#include "petit/core/status.h"
#include "petit/core/task_runner.h"
#include "plugins/plugin_loader.h"

namespace petit::host {

class PluginTaskRunner final : public TaskRunner {
 public:
  // `type` must be one of plugin->task_types(); it lives as long as `plugin` does. `trusted`:
  // the plugin ships with petit and is relied on to return soon after a cancel
  // (TaskRunner::stops_on_cancel); any other is abandoned once it outlives the grace.
  PluginTaskRunner(std::shared_ptr<const LoadedPlugin> plugin, const PluginTaskType& type,
                   bool trusted = false);

  AttemptResult Run(const AttemptRequest& request, AttemptControl& control) override;
  bool serial() const override;
  bool stops_on_cancel() const override { return trusted_; }

  const TaskTypeInfo& info() const { return type_->info; }

 private:
  std::shared_ptr<const LoadedPlugin> plugin_;
  const PluginTaskType* type_;  // not null; owned by plugin_
  bool trusted_;
};

// The runner for task type `name` of `plugin`; kNotFound when the plugin does not declare it.
Result<std::shared_ptr<TaskRunner>> MakePluginTaskRunner(std::shared_ptr<const LoadedPlugin> plugin,
                                                         std::string_view name);

// Registers a runner for every task type of every loaded plugin. Stops at the first name the
// registry already holds (a runner registered by something other than a plugin).
Status RegisterPluginTaskTypes(const PluginLoadResult& plugins, TaskRunnerRegistry& registry);

}  // namespace petit::host

#endif  // PETIT_HOST_PLUGINS_PLUGIN_TASK_RUNNER_H_
