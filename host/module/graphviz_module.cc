// The Graphviz module (cli/graphviz_module.h): lays out and renders `petit graph --format svg`
// with libgvc, which only that command maps.
#include <graphviz/cgraph.h>
#include <graphviz/gvc.h>

#include <memory>
#include <string>

#include "cli/graphviz_module.h"
#include "petit/storage/internal_module.h"

namespace petit::host {
namespace {

// Above this many nodes the layout trades some quality for time.
constexpr int kLargeGraphNodes = 1000;

// Graphviz reports errors to a process-wide handler; this collects them for one call.
std::string* g_errors = nullptr;

int CollectError(char* message) {
  if (g_errors != nullptr && message != nullptr) {
    std::string text(message);
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    if (!text.empty()) *g_errors += (g_errors->empty() ? "" : "; ") + text;
  }
  return 0;
}

struct ErrorCapture {
  explicit ErrorCapture(std::string& errors) {
    g_errors = &errors;
    previous_handler = agseterrf(CollectError);
    previous_level = agseterr(AGERR);  // warnings (fonts, sizes) are not the user's concern
  }
  ~ErrorCapture() {
    agseterr(previous_level);
    agseterrf(previous_handler);
    g_errors = nullptr;
  }
  ErrorCapture(const ErrorCapture&) = delete;
  ErrorCapture& operator=(const ErrorCapture&) = delete;
  agusererrf previous_handler;
  agerrlevel_t previous_level;
};

// One context for the process, never freed: Graphviz's pango plugin remembers the last font it
// measured across contexts, and reads freed memory in the next context once one is freed.
GVC_t* Context() {
  static GVC_t* const gvc = gvContext();
  return gvc;
}
struct GraphDeleter {
  void operator()(Agraph_t* graph) const { agclose(graph); }
};

std::string Because(const std::string& errors) {
  return errors.empty() ? std::string() : ": " + errors;
}

Result<std::string> RenderSvg(const std::string& dot) {
  std::string errors;
  ErrorCapture capture(errors);
  GVC_t* const gvc = Context();
  if (gvc == nullptr) return Internal("graphviz: cannot create a context");
  std::unique_ptr<Agraph_t, GraphDeleter> graph(agmemread(dot.c_str()));
  if (!graph) return InvalidArgument("graphviz cannot read the graph" + Because(errors));
  if (agnnodes(graph.get()) > kLargeGraphNodes) {
    // Fewer crossing-minimisation and network-simplex passes: 5,000 tasks lay out in about half
    // the time (README, `petit graph`), at the price of a few more crossings.
    agsafeset(graph.get(), const_cast<char*>("mclimit"), const_cast<char*>("0.01"),
              const_cast<char*>(""));
    agsafeset(graph.get(), const_cast<char*>("nslimit"), const_cast<char*>("0.1"),
              const_cast<char*>(""));
    agsafeset(graph.get(), const_cast<char*>("nslimit1"), const_cast<char*>("0.1"),
              const_cast<char*>(""));
  }
  if (gvLayout(gvc, graph.get(), "dot") != 0) {
    return Internal("graphviz cannot lay the graph out" + Because(errors) +
                    " (is its dot layout plugin installed? `dot -c` registers it)");
  }
  char* data = nullptr;
  unsigned int length = 0;
  const int rendered = gvRenderData(gvc, graph.get(), "svg", &data, &length);
  std::string svg = rendered == 0 && data != nullptr ? std::string(data, length) : std::string();
  if (data != nullptr) gvFreeRenderData(data);
  gvFreeLayout(gvc, graph.get());
  if (rendered != 0) {
    return Internal("graphviz cannot render SVG" + Because(errors) +
                    " (is its core plugin installed? `dot -c` registers it)");
  }
  return svg;
}

}  // namespace
}  // namespace petit::host

extern "C" __attribute__((visibility("default"))) const void* petit_graphviz_module_v1() {
  static const petit::host::GraphvizModule module = {petit::storage::InternalModuleBuild().data(),
                                                     &petit::host::RenderSvg};
  return &module;
}
