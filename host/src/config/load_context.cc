#include "config/load_context.h"

#include <utility>

namespace petit::host::internal {

LoadContext::LoadContext(const JobLoaderOptions& options) : options_(options) {
  for (const auto& [type, text] : options.params_schemas) {
    Result<ParamsSchema> parsed = ParamsSchema::Parse(text);
    if (parsed.ok()) {
      schemas_.emplace(type, std::move(parsed).value());
    } else {
      unreadable_.emplace(type, parsed.status().message());
    }
  }
}

const ParamsSchema* LoadContext::SchemaFor(const std::string& type, std::string* unreadable) const {
  if (auto it = schemas_.find(type); it != schemas_.end()) return &it->second;
  if (auto it = unreadable_.find(type); it != unreadable_.end()) *unreadable = it->second;
  return nullptr;
}

}  // namespace petit::host::internal
