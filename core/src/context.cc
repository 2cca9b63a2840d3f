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

RunContext::RunContext(std::shared_ptr<const ValueMap> config)
    : values_(std::make_shared<const ValueMap>()),
      config_(config ? std::move(config) : std::make_shared<const ValueMap>()) {}

Status RunContext::MergeOutputs(const TaskId& task, const ValueMap& outputs) {
  for (const auto& [key, value] : outputs) {
    PETIT_RETURN_IF_ERROR(
        ValidateOutputKey(key).WithContext("task " + internal::Quoted(task.str())));
  }
  if (outputs.empty()) return Status::Ok();
  // Snapshots handed out earlier keep the old map; readers never see a half-merged state.
  auto merged = std::make_shared<ValueMap>(*values_);
  for (const auto& [key, value] : outputs) {
    merged->insert_or_assign(NamespacedKey(task, key), value);
  }
  values_ = std::move(merged);
  return Status::Ok();
}

std::optional<std::string_view> RunContext::Get(std::string_view namespaced_key) const {
  return Lookup(*values_, namespaced_key);
}

std::optional<std::string_view> RunContext::GetConfig(std::string_view key) const {
  return Lookup(*config_, key);
}

}  // namespace petit
