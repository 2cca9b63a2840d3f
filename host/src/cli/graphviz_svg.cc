#include "cli/graphviz_svg.h"

#include <string>

#include "cli/graphviz_module.h"
#include "petit/storage/internal_module.h"

// LeakSanitizer (the dev build's ASan) would fail every SVG render on what Graphviz and fontconfig,
// loaded with the Graphviz module, keep for the life of the process (font caches, the plugin list):
// theirs, not ours.
extern "C" __attribute__((visibility("default"), used)) const char* __lsan_default_suppressions() {
  return "leak:libgvc.so\nleak:libfontconfig.so\nleak:libpango\nleak:libcairo.so\n";
}
// ...and say nothing of them on stderr, which `petit graph` keeps for its own errors.
extern "C" __attribute__((visibility("default"), used)) const char* __lsan_default_options() {
  return "print_suppressions=0";
}

namespace petit::host {

Result<std::string> DotToSvg(const std::string& dot) {
  // libgvc and what it brings are mapped only now, by loading the module that holds them.
  Result<const void*> module =
      storage::LoadInternalModule(storage::InternalModuleDir() + "/" + kGraphvizModuleFile,
                                  kGraphvizModuleEntry, "the Graphviz module");
  if (!module.ok()) return module.status().WithContext("cannot render SVG");
  return static_cast<const GraphvizModule*>(*module)->dot_to_svg(dot);
}

}  // namespace petit::host
