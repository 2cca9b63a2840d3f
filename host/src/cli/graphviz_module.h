// The Graphviz module's entry (petit/storage/internal_module.h):
// lib/petit/modules/petit_graphviz.so holds the Graphviz layout and SVG rendering, so that only
// `petit graph --format svg` maps libgvc and its libraries. module/graphviz_module.cc defines the
// entry; graphviz_svg.cc loads it.
#ifndef PETIT_HOST_CLI_GRAPHVIZ_MODULE_H_
#define PETIT_HOST_CLI_GRAPHVIZ_MODULE_H_

#include <string>

#include "petit/core/status.h"

namespace petit::host {

inline constexpr char kGraphvizModuleFile[] = "petit_graphviz.so";
inline constexpr char kGraphvizModuleEntry[] = "petit_graphviz_module_v1";

// What the entry returns; `build` first, as every module's.
struct GraphvizModule {
  const char* build;
  // graphviz_svg.h's DotToSvg.
  Result<std::string> (*dot_to_svg)(const std::string& dot);
};

}  // namespace petit::host

#endif  // PETIT_HOST_CLI_GRAPHVIZ_MODULE_H_
