// Lays a dot graph out with Graphviz's library (libgvc, the `dot` layout) and renders it as SVG,
// for `petit graph --format svg`, without running the `dot` program.
//
// Graphviz is in the module lib/petit/modules/petit_graphviz.so (graphviz_module.h), loaded on the
// first call; the only file that includes Graphviz's headers is host/module/graphviz_module.cc.
// Threads: Graphviz keeps global state (its error handler, its plugin list); call from one thread
// at a time.
#ifndef PETIT_HOST_CLI_GRAPHVIZ_SVG_H_
#define PETIT_HOST_CLI_GRAPHVIZ_SVG_H_

#include <string>

#include "petit/core/status.h"

namespace petit::host {

// The SVG document of `dot`. kInvalidArgument when Graphviz cannot read `dot`, kInternal when it
// cannot lay it out or has no SVG renderer (its plugins are missing); the message is Graphviz's.
// kFailedPrecondition when the module is missing or of another build (internal_module.h).
Result<std::string> DotToSvg(const std::string& dot);

}  // namespace petit::host

#endif  // PETIT_HOST_CLI_GRAPHVIZ_SVG_H_
