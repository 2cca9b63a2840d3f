// ParamsSchema: checks a task's parameters, as written in its job file, against the JSON Schema
// its plugin declares (petit_task_type.params_schema_json), so a wrong parameter is reported by
// `petit validate` with its line and column instead of when the task first runs.
//
// The subset of JSON Schema plugins use: type (a name or a list of names), properties, required,
// additionalProperties (false or a schema), propertyNames, items, enum, const, minimum, maximum,
// exclusiveMinimum, exclusiveMaximum, minLength, maxLength, pattern, minItems, maxItems, allOf,
// anyOf, oneOf, not. Other keywords (default, format, $ref...) are ignored, and so is a pattern
// std::regex cannot compile (ECMAScript without lookbehind) or a string too long to match it
// safely: the plugin checks its parameters again when a task is created, so an ignored keyword
// only moves an error from load time to run time. A string holding a `${{ }}` template is only
// checked for being a string, since its value is known only when the task runs. The description
// of a propertyNames schema, when it has one, explains a name it refuses.
//
// Values are typed as YamlToJson writes them for the plugin with the same ScalarTyping: typed,
// `5` is an integer and `"5"` a string; as text, both are strings.
//
// Ownership and threads: a ParamsSchema is an immutable value (shared state, cheap to copy); any
// thread may use it.
#ifndef PETIT_HOST_CONFIG_PARAMS_SCHEMA_H_
#define PETIT_HOST_CONFIG_PARAMS_SCHEMA_H_

#include <memory>
#include <string_view>

#include "config/yaml_support.h"
#include "config/yaml_tree.h"
#include "petit/core/status.h"

namespace petit::host {

namespace internal {
struct SchemaNode;  // defined in params_schema.cc
}  // namespace internal

class ParamsSchema {
 public:
  // Fails when `json` is not a JSON object, or when a keyword this checker reads has the wrong
  // shape ("'required' must be a list of strings").
  static Result<ParamsSchema> Parse(std::string_view json);

  // Adds one problem to `errors` per violation found in `params` (a mapping; undefined or null
  // stands for no parameters). Problems are keyed `key` + the parameter's path ("params.url",
  // "params.headers.accept", "params.args[2]") under the current scope of `errors`, or by the path
  // alone when `key` is empty (parameters written among a task's own keys, as the original's
  // command form has them). They are located at the offending value, or at `owner` when the value
  // has no position (a missing parameter, a value the caller made). Every message starts with
  // `subject` ("task 'fetch' (type http.request)").
  void Check(const YamlNode& params, const YamlNode& owner, std::string_view key,
             std::string_view subject, YamlErrors& errors,
             ScalarTyping typing = ScalarTyping::kTyped) const;

 private:
  explicit ParamsSchema(std::shared_ptr<const internal::SchemaNode> root)
      : root_(std::move(root)) {}
  std::shared_ptr<const internal::SchemaNode> root_;
};

}  // namespace petit::host

#endif  // PETIT_HOST_CONFIG_PARAMS_SCHEMA_H_
