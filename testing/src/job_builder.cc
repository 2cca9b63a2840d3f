#include <string>
#include <utility>

#include "petit/core/json.h"
#include "petit/testing/harness.h"

namespace petit::testing {
namespace {

// A YAML double-quoted scalar: whatever the text holds stays text. A JSON string literal is one
// (YAML 1.2 reads JSON's escapes), control characters included.
std::string Quoted(std::string_view text) { return JsonString(text); }

std::string Number(double value) {
  std::string text = std::to_string(value);
  while (!text.empty() && text.back() == '0') text.pop_back();
  if (!text.empty() && text.back() == '.') text.pop_back();
  return text;
}

}  // namespace

JobBuilder& JobBuilder::Schedule(std::string cron, std::string time_zone) {
  cron_ = std::move(cron);
  time_zone_ = std::move(time_zone);
  return *this;
}

JobBuilder& JobBuilder::CatchUp(std::string policy, uint32_t limit) {
  catch_up_ = std::move(policy);
  catch_up_limit_ = limit;
  return *this;
}

JobBuilder& JobBuilder::Overlap(std::string policy) {
  overlap_ = std::move(policy);
  return *this;
}

JobBuilder& JobBuilder::MaxActiveRuns(uint32_t runs) {
  max_active_runs_ = runs;
  return *this;
}

JobBuilder& JobBuilder::DependsOnJob(std::string job, std::string condition) {
  depends_on_.emplace_back(std::move(job), std::move(condition));
  return *this;
}

JobBuilder& JobBuilder::Config(std::string key, std::string value) {
  config_.emplace_back(std::move(key), std::move(value));
  return *this;
}

JobBuilder& JobBuilder::AddTask(Task task) {
  tasks_.push_back(std::move(task));
  return *this;
}

JobBuilder& JobBuilder::Command(std::string id, std::string command,
                                std::vector<std::string> depends_on) {
  Task task;
  task.id = std::move(id);
  task.type = "command";
  task.params["command"] = std::move(command);
  task.depends_on = std::move(depends_on);
  return AddTask(std::move(task));
}

std::string JobBuilder::Yaml() const {
  std::string y = "id: " + Quoted(id_) + "\n";
  if (!cron_.empty()) {
    y += "schedule:\n  cron: " + Quoted(cron_) + "\n";
    if (!time_zone_.empty()) y += "  timezone: " + Quoted(time_zone_) + "\n";
  }
  if (!catch_up_.empty()) y += "catch_up: " + catch_up_ + "\n";
  if (catch_up_limit_ != 0) y += "catch_up_limit: " + std::to_string(catch_up_limit_) + "\n";
  if (!overlap_.empty()) y += "overlap: " + overlap_ + "\n";
  if (max_active_runs_) y += "max_active_runs: " + std::to_string(*max_active_runs_) + "\n";
  if (!depends_on_.empty()) {
    y += "depends_on:\n";
    for (const auto& [job, condition] : depends_on_) {
      y += "  - {job: " + Quoted(job) + ", condition: " + condition + "}\n";
    }
  }
  if (!config_.empty()) {
    y += "config:\n";
    for (const auto& [key, value] : config_) y += "  " + Quoted(key) + ": " + Quoted(value) + "\n";
  }
  y += "tasks:\n";
  for (const Task& task : tasks_) {
    y += "  - id: " + Quoted(task.id) + "\n";
    y += "    type: " + Quoted(task.type) + "\n";
    // The original's forms keep their parameters at task level; other types under `params`.
    const bool legacy = task.type == "command" || task.type == "python" || task.type == "custom";
    if (!task.params.empty()) {
      if (!legacy) y += "    params:\n";
      const std::string indent = legacy ? "    " : "      ";
      for (const auto& [key, value] : task.params) {
        y += indent + Quoted(key) + ": " + Quoted(value) + "\n";
      }
    }
    if (!task.depends_on.empty()) {
      y += "    depends_on: [";
      for (size_t i = 0; i < task.depends_on.size(); ++i) {
        y += (i == 0 ? "" : ", ") + Quoted(task.depends_on[i]);
      }
      y += "]\n";
    }
    if (!task.condition.empty()) y += "    condition: " + task.condition + "\n";
    if (task.timeout_secs != 0)
      y += "    timeout_secs: " + std::to_string(task.timeout_secs) + "\n";
    if (task.max_attempts != 0) {
      y += "    retry:\n      max_attempts: " + std::to_string(task.max_attempts) + "\n";
      y += "      delay_secs: " + Number(task.delay_secs) + "\n";
      if (task.backoff_multiplier != 0) {
        y += "      backoff_multiplier: " + Number(task.backoff_multiplier) + "\n";
      }
      if (task.max_delay_secs != 0) {
        y += "      max_delay_secs: " + Number(task.max_delay_secs) + "\n";
      }
    }
  }
  return y;
}

}  // namespace petit::testing
