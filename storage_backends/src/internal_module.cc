#include "petit/storage/internal_module.h"

#include <dlfcn.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>
#include <system_error>

#include "src/text_codec.h"

namespace petit::storage {
namespace {

#ifndef PETIT_MODULE_BUILD
#error "PETIT_MODULE_BUILD must be defined (storage_backends/CMakeLists.txt does)"
#endif

constexpr char kModuleSubdir[] = "lib/petit/modules";

// Every module's struct begins with this.
struct ModuleHeader {
  const char* build;
};

}  // namespace

std::string_view InternalModuleBuild() { return PETIT_MODULE_BUILD; }

std::string InternalModuleDir() {
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return kModuleSubdir;
  return (exe.parent_path().parent_path() / kModuleSubdir).lexically_normal().string();
}

Result<const void*> LoadInternalModule(const std::string& path, const char* entry,
                                       std::string_view what) {
  const std::string name = std::string(what) + " " + path;
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    const int error = errno;
    if (error == ENOENT) {
      return FailedPrecondition(name + " is missing: petit is installed without it (reinstall " +
                                "petit, or build the target that makes it)");
    }
    return FailedPrecondition("cannot read " + name + ": " +
                              std::error_code(error, std::system_category()).message());
  }
  // RTLD_LOCAL: the module's copies of petit's code stay its own. RTLD_NODELETE: objects it made
  // may outlive any handle, so it is never unloaded.
  void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
  if (handle == nullptr) {
    const char* error = ::dlerror();
    return FailedPrecondition("cannot load " + name + ": " +
                              internal::OneLine(error != nullptr ? error : "unknown error"));
  }
  ::dlerror();
  void* symbol = ::dlsym(handle, entry);
  if (symbol == nullptr) {
    return FailedPrecondition(name + " is not a petit module: it has no " + entry + " function");
  }
  // The entry is a C function returning a pointer to the module's struct.
  const auto function = reinterpret_cast<const void* (*)()>(symbol);
  const void* module = function();
  const auto* header = static_cast<const ModuleHeader*>(module);
  if (header == nullptr || header->build == nullptr ||
      std::string_view(header->build) != InternalModuleBuild()) {
    const std::string built = header != nullptr && header->build != nullptr
                                  ? internal::OneLine(header->build)
                                  : std::string("an unknown build");
    return FailedPrecondition(name + " comes from another build of petit (" + built +
                              ", this petit is " + std::string(InternalModuleBuild()) +
                              "): reinstall petit so that both come from the same build");
  }
  return module;
}

}  // namespace petit::storage
