// LoadContext: what every job file of one load shares, the loader's options and the parameter
// schema of each plugin task type, parsed once, when a task of that type first asks for it: a load
// mostly uses few of the types the plugins declare, and compiling a schema costs tens of
// microseconds (a one-task `petit trigger` compiled every type's before).
//
// Ownership: borrows the options, which must outlive it. Threads: SchemaFor may be called from
// any thread (a schema is parsed once, under its std::once_flag), so the threads of
// LoadJobDirectory share one freely.
#ifndef PETIT_HOST_CONFIG_LOAD_CONTEXT_H_
#define PETIT_HOST_CONFIG_LOAD_CONTEXT_H_

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "config/job_loader.h"
#include "config/params_schema.h"

namespace petit::host::internal {

class LoadContext {
 public:
  explicit LoadContext(const JobLoaderOptions& options);

  const JobLoaderOptions& options() const { return options_; }

  // The schema of `type`; nullptr when it declares none or declares one this host cannot read
  // (then `unreadable` says why).
  const ParamsSchema* SchemaFor(const std::string& type, std::string* unreadable) const;

 private:
  struct LazySchema {
    std::string_view text;  // borrowed from options_.params_schemas
    std::once_flag parsed;
    std::optional<ParamsSchema> schema;  // once parsed: the schema, or else
    std::string unreadable;              // why it cannot be read
  };

  const JobLoaderOptions& options_;
  // Built in the constructor, never resized: the entries (and their once_flags) stay put.
  mutable std::map<std::string, LazySchema, std::less<>> schemas_;
};

}  // namespace petit::host::internal

#endif  // PETIT_HOST_CONFIG_LOAD_CONTEXT_H_
