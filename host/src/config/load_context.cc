#include "config/load_context.h"

#include <utility>

namespace petit::host::internal {

LoadContext::LoadContext(const JobLoaderOptions& options) : options_(options) {
  for (const auto& [type, text] : options.params_schemas) {
    schemas_.try_emplace(type).first->second.text = text;
  }
}

const ParamsSchema* LoadContext::SchemaFor(const std::string& type, std::string* unreadable) const {
  auto it = schemas_.find(type);
  if (it == schemas_.end()) return nullptr;
  LazySchema& lazy = it->second;
  std::call_once(lazy.parsed, [&lazy] {
    Result<ParamsSchema> parsed = ParamsSchema::Parse(lazy.text);
    if (parsed.ok()) {
      lazy.schema = std::move(parsed).value();
    } else {
      lazy.unreadable = parsed.status().message();
    }
  });
  if (lazy.schema.has_value()) return &*lazy.schema;
  *unreadable = lazy.unreadable;
  return nullptr;
}

}  // namespace petit::host::internal
