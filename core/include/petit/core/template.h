// Parameter templating: `${{ ... }}` expressions in task parameters, replaced with upstream
// outputs, job config values and the attempt's identity just before an attempt starts.
//
// Expressions (whitespace inside the braces is optional):
//   ${{ tasks.<task_id>.outputs.<key> }}   an output of a task that succeeded earlier in the run
//   ${{ config.<key> }}                    a job config value
//   ${{ run.id }}  ${{ job.id }}  ${{ task.id }}  ${{ task.attempt }}
// `$${{` is a literal `${{` (the text after it is not read as a template); a `$` anywhere else,
// shell's `$$` and `${VAR}` included, is plain text. Task ids may contain '.', output keys may
// not, so `tasks.a.b.outputs.k` names output `k` of task `a.b`. Values are inserted once: a value
// that itself contains `${{` is not expanded again.
//
// Errors name the template as written: a `${{` without `}}`, an expression of none of the forms
// above, a task or a key that has no value (saying whether the task has no outputs at all or
// lacks that key), a config key that does not exist.
//
// Ownership: every function borrows its arguments for the call and returns values. TemplateScope
// only points at data the caller keeps alive during the call. Threads: all functions are pure;
// call them from any thread.
#ifndef PETIT_CORE_TEMPLATE_H_
#define PETIT_CORE_TEMPLATE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "petit/core/context.h"
#include "petit/core/status.h"

namespace petit {

// What templates may refer to. A null map reads as empty.
struct TemplateScope {
  const RunOutputs* outputs = nullptr;  // the run's outputs so far
  const ValueMap* config = nullptr;
  std::string_view run_id;
  std::string_view job_id;
  std::string_view task_id;
  uint32_t attempt = 0;
};

// True when `text` contains `${{` (a template or an escaped one). When false, both Expand
// functions return `text` unchanged, so a caller on a hot path may skip them.
inline bool HasTemplates(std::string_view text) {
  return text.find("${{") != std::string_view::npos;
}

// Replaces every template in plain text with its value, inserted as it is.
Result<std::string> ExpandTemplates(std::string_view text, const TemplateScope& scope);

// Replaces the templates inside the string literals (keys included) of a JSON document; text
// outside string literals is copied unchanged. Values are written JSON-escaped ('"', '\' and
// control characters; other bytes as they are), so no value can end a literal or break the
// document. A template must open and close within one literal, and is read as the literal is
// written (a `$` written as \u0024 opens none). The document is not otherwise validated; an
// unterminated string literal is an error.
Result<std::string> ExpandTemplatesInJson(std::string_view json, const TemplateScope& scope);

// The task ids named by well-formed `tasks.<id>.outputs.<key>` templates in `text`, each once,
// in order of first appearance. Escaped and malformed templates are ignored (CheckTemplates
// reports the malformed ones). Works on JSON text as it is.
std::vector<std::string> ReferencedTasks(std::string_view text);

// Checks the syntax of every template in `text` without resolving any; returns the first error.
// Works on JSON text as it is.
Status CheckTemplates(std::string_view text);

}  // namespace petit

#endif  // PETIT_CORE_TEMPLATE_H_
