// LoadContext: what every job file of one load shares, the loader's options and the parameter
// schema of each plugin task type, parsed once before any file is read.
//
// Ownership: borrows the options, which must outlive it. Threads: immutable once built, so the
// threads of LoadJobDirectory share one freely.
#ifndef PETIT_HOST_CONFIG_LOAD_CONTEXT_H_
#define PETIT_HOST_CONFIG_LOAD_CONTEXT_H_

#include <functional>
#include <map>
#include <string>

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
  const JobLoaderOptions& options_;
  std::map<std::string, ParamsSchema, std::less<>> schemas_;
  std::map<std::string, std::string, std::less<>> unreadable_;
};

}  // namespace petit::host::internal

#endif  // PETIT_HOST_CONFIG_LOAD_CONTEXT_H_
