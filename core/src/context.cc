#include "petit/core/context.h"

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "text.h"

namespace petit {
namespace {

std::optional<std::string_view> Lookup(const ValueMap& map, std::string_view key) {
  const auto it = map.find(key);
  if (it == map.end()) return std::nullopt;
  return std::string_view(it->second);
}

}  // namespace

Status ValidateOutputKey(std::string_view key) {
  if (key.empty()) return InvalidArgument("output key must not be empty");
  for (size_t i = 0; i < key.size(); ++i) {
    const auto byte = static_cast<uint8_t>(key[i]);
    if (key[i] == '.') {
      return InvalidArgument("output key " + internal::Quoted(key) +
                             " must not contain '.' (keys are namespaced as <task>.<key>)");
    }
    if (byte < 0x20 || byte == 0x7f) {
      return InvalidArgument("output key " + internal::Quoted(key) +
                             " contains a control character at position " + std::to_string(i + 1));
    }
  }
  return Status::Ok();
}

std::string NamespacedKey(const TaskId& task, std::string_view key) {
  std::string out;
  out.reserve(task.str().size() + 1 + key.size());
  out.append(task.str()).append(".").append(key);
  return out;
}

Status RunOutputs::Add(const TaskId& task, const ValueMap& outputs) {
  for (const auto& [key, value] : outputs) {
    PETIT_RETURN_IF_ERROR(
        ValidateOutputKey(key).WithContext("task " + internal::Quoted(task.str())));
  }
  if (outputs.empty()) return Status::Ok();
  auto copy = std::make_unique<const ValueMap>(outputs);
  WriterMutexLock lock(mu_);
  auto [it, inserted] = by_task_.try_emplace(task.str(), std::move(copy));
  if (!inserted) {
    return FailedPrecondition("outputs of task " + internal::Quoted(task.str()) +
                              " were already recorded");
  }
  count_ += outputs.size();
  return Status::Ok();
}

std::optional<std::string_view> RunOutputs::Get(std::string_view namespaced_key) const {
  size_t dot = namespaced_key.rfind('.');
  if (dot == std::string_view::npos) return std::nullopt;
  const ValueMap* outputs = OutputsOf(namespaced_key.substr(0, dot));
  if (outputs == nullptr) return std::nullopt;
  return Lookup(*outputs, namespaced_key.substr(dot + 1));
}

const ValueMap* RunOutputs::OutputsOf(std::string_view task) const {
  ReaderMutexLock lock(mu_);
  auto it = by_task_.find(task);
  return it == by_task_.end() ? nullptr : it->second.get();
}

void RunOutputs::ForEach(const std::function<void(std::string_view, const ValueMap&)>& f) const {
  ReaderMutexLock lock(mu_);
  for (const auto& [task, outputs] : by_task_) f(task, *outputs);
}

size_t RunOutputs::size() const {
  ReaderMutexLock lock(mu_);
  return count_;
}

RunContext::RunContext(std::shared_ptr<const ValueMap> config)
    : outputs_(std::make_shared<RunOutputs>()),
      config_(config ? std::move(config) : std::make_shared<const ValueMap>()) {}

std::optional<std::string_view> RunContext::GetConfig(std::string_view key) const {
  return Lookup(*config_, key);
}

}  // namespace petit
