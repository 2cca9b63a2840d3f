// Fuzzes `${{ }}` templates (core/template.h) as plain text and as JSON, against a scope with
// outputs (one of a task whose id holds a '.') and config values. Text without `${{` must come
// back unchanged from ExpandTemplates.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "petit/core/context.h"
#include "petit/core/ids.h"
#include "petit/core/template.h"

namespace {

const petit::TemplateScope& Scope() {
  static petit::RunOutputs outputs;  // not copyable: filled in place, once
  static const bool filled = [] {
    (void)outputs.Add(petit::TaskId("extract"), {{"rows", "42"}, {"path", "/tmp/x \"q\"\n"}});
    (void)outputs.Add(petit::TaskId("a.b"), {{"k", "${{ config.env }}"}});
    (void)outputs.Add(petit::TaskId("empty"), {});
    return true;
  }();
  (void)filled;
  static const petit::ValueMap config = {{"env", "prod"}, {"quote", "\"\\\x01"}};
  static const petit::TemplateScope scope{&outputs, &config, "run-1", "job", "task", 3};
  return scope;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const petit::TemplateScope& scope = Scope();
  (void)petit::CheckTemplates(text);
  (void)petit::ReferencedTasks(text);
  petit::Result<std::string> plain = petit::ExpandTemplates(text, scope);
  if (!petit::HasTemplates(text) && (!plain.ok() || *plain != text)) abort();
  (void)petit::ExpandTemplatesInJson(text, scope);
  return 0;
}
