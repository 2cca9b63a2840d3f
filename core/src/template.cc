#include "petit/core/template.h"

#include "petit/core/json.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "petit/core/ids.h"
#include "text.h"

namespace petit {
namespace {

using internal::Quoted;

constexpr std::string_view kOpen = "${{";
constexpr std::string_view kClose = "}}";
constexpr std::string_view kSpace = " \t\r\n";
constexpr std::string_view kTasksPrefix = "tasks.";
constexpr std::string_view kOutputsInfix = ".outputs";
constexpr std::string_view kConfigPrefix = "config.";
constexpr std::string_view kForms =
    "expected tasks.<task>.outputs.<key>, config.<key>, run.id, job.id, task.id or task.attempt";
// Templates are short; a long quote in a message means something else went wrong.
constexpr size_t kQuotedChars = 120;
// How many of a task's output keys a "has no output" message lists.
constexpr size_t kListedKeys = 10;

enum class ExpressionKind : uint8_t { kOutput, kConfig, kRunId, kJobId, kTaskId, kAttempt };

struct Expression {
  ExpressionKind kind = ExpressionKind::kRunId;
  std::string_view task;  // kOutput
  std::string_view key;   // kOutput, kConfig
};

std::string_view Trim(std::string_view text) {
  const size_t first = text.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(kSpace) + 1 - first);
}

// "template '${{ x }}': <problem>"
Status TemplateError(StatusCode code, std::string_view whole, std::string_view problem) {
  std::string message = "template ";
  message.append(Quoted(whole, kQuotedChars)).append(": ").append(problem);
  return {code, std::move(message)};
}

Result<Expression> ParseOutputExpression(std::string_view rest, std::string_view whole) {
  // Keys cannot contain '.', so the last '.' ends the task part whatever dots the task id has.
  const size_t last_dot = rest.rfind('.');
  if (last_dot == std::string_view::npos || last_dot < kOutputsInfix.size() ||
      rest.substr(last_dot - kOutputsInfix.size(), kOutputsInfix.size()) != kOutputsInfix) {
    return TemplateError(StatusCode::kInvalidArgument, whole,
                         "expected tasks.<task>.outputs.<key>");
  }
  Expression expression{ExpressionKind::kOutput, rest.substr(0, last_dot - kOutputsInfix.size()),
                        rest.substr(last_dot + 1)};
  if (Status task = ValidateName(expression.task, "task id"); !task.ok()) {
    return TemplateError(task.code(), whole, task.message());
  }
  if (Status key = ValidateOutputKey(expression.key); !key.ok()) {
    return TemplateError(key.code(), whole, key.message());
  }
  return expression;
}

// `expression` is the text between the braces, trimmed; `whole` is the template as written.
Result<Expression> ParseExpression(std::string_view expression, std::string_view whole) {
  if (expression == "run.id") return Expression{ExpressionKind::kRunId, {}, {}};
  if (expression == "job.id") return Expression{ExpressionKind::kJobId, {}, {}};
  if (expression == "task.id") return Expression{ExpressionKind::kTaskId, {}, {}};
  if (expression == "task.attempt") return Expression{ExpressionKind::kAttempt, {}, {}};
  if (expression.substr(0, kTasksPrefix.size()) == kTasksPrefix) {
    return ParseOutputExpression(expression.substr(kTasksPrefix.size()), whole);
  }
  if (expression.substr(0, kConfigPrefix.size()) == kConfigPrefix) {
    const std::string_view key = expression.substr(kConfigPrefix.size());
    if (key.empty()) {
      return TemplateError(StatusCode::kInvalidArgument, whole, "expected config.<key>");
    }
    return Expression{ExpressionKind::kConfig, {}, key};
  }
  if (expression.empty()) {
    return TemplateError(StatusCode::kInvalidArgument, whole,
                         "empty expression (" + std::string(kForms) + ")");
  }
  return TemplateError(
      StatusCode::kInvalidArgument, whole,
      "unknown expression " + Quoted(expression, kQuotedChars) + " (" + std::string(kForms) + ")");
}

// Walks `text`, handing each piece of literal text to `literal` and each template to
// `on_template(whole, trimmed_expression)`, which returns a Status; stops at the first error.
template <typename Literal, typename OnTemplate>
Status Scan(std::string_view text, Literal&& literal, OnTemplate&& on_template) {
  size_t pos = 0;
  for (;;) {
    const size_t open = text.find(kOpen, pos);
    if (open == std::string_view::npos) {
      literal(text.substr(pos));
      return Status::Ok();
    }
    // `open > pos`: the character before a `${{` that follows a template or an escape is one of
    // their braces, never a '$' of its own.
    if (open > pos && text[open - 1] == '$') {
      literal(text.substr(pos, open - 1 - pos));
      literal(kOpen);
      pos = open + kOpen.size();
      continue;
    }
    literal(text.substr(pos, open - pos));
    const size_t inner = open + kOpen.size();
    const size_t close = text.find(kClose, inner);
    if (close == std::string_view::npos) {
      return InvalidArgument("unterminated template " + Quoted(text.substr(open), kQuotedChars) +
                             " (no closing '}}')");
    }
    const std::string_view whole = text.substr(open, close + kClose.size() - open);
    PETIT_RETURN_IF_ERROR(on_template(whole, Trim(text.substr(inner, close - inner))));
    pos = close + kClose.size();
  }
}

// The keys of `task`'s outputs: entries "<task>.<key>" whose key has no '.' (an entry
// "<task>.x.k" belongs to task "<task>.x").
std::vector<std::string_view> OutputKeysOf(const RunOutputs& outputs, std::string_view task) {
  std::vector<std::string_view> keys;
  if (const ValueMap* of_task = outputs.OutputsOf(task)) {
    for (const auto& [key, value] : *of_task) keys.push_back(key);
  }
  return keys;
}

Status MissingOutput(const RunOutputs* outputs, const Expression& expression,
                     std::string_view whole) {
  const std::vector<std::string_view> keys = outputs != nullptr
                                                 ? OutputKeysOf(*outputs, expression.task)
                                                 : std::vector<std::string_view>{};
  if (keys.empty()) {
    return TemplateError(StatusCode::kNotFound, whole,
                         "task " + Quoted(expression.task) +
                             " has no outputs (it has not succeeded in this run, or it set none)");
  }
  std::string listed;
  for (size_t i = 0; i < keys.size() && i < kListedKeys; ++i) {
    if (i > 0) listed.append(", ");
    listed.append(Quoted(keys[i]));
  }
  if (keys.size() > kListedKeys) listed.append(", ...");
  return TemplateError(StatusCode::kNotFound, whole,
                       "task " + Quoted(expression.task) + " has no output " +
                           Quoted(expression.key) + " (its outputs: " + listed + ")");
}

std::optional<std::string_view> Lookup(const ValueMap* map, std::string_view key) {
  if (map == nullptr) return std::nullopt;
  const auto it = map->find(key);
  if (it == map->end()) return std::nullopt;
  return std::string_view(it->second);
}

// Appends the value of one template through `append`.
template <typename Append>
Status Resolve(const TemplateScope& scope, std::string_view whole, std::string_view text,
               Append&& append) {
  Result<Expression> parsed = ParseExpression(text, whole);
  if (!parsed.ok()) return parsed.status();
  const Expression& expression = *parsed;
  switch (expression.kind) {
    case ExpressionKind::kRunId:
      append(scope.run_id);
      return Status::Ok();
    case ExpressionKind::kJobId:
      append(scope.job_id);
      return Status::Ok();
    case ExpressionKind::kTaskId:
      append(scope.task_id);
      return Status::Ok();
    case ExpressionKind::kAttempt:
      append(std::to_string(scope.attempt));
      return Status::Ok();
    case ExpressionKind::kConfig: {
      const std::optional<std::string_view> value = Lookup(scope.config, expression.key);
      if (!value) {
        return TemplateError(StatusCode::kNotFound, whole,
                             "the job config has no key " + Quoted(expression.key));
      }
      append(*value);
      return Status::Ok();
    }
    case ExpressionKind::kOutput: {
      std::string namespaced(expression.task);
      namespaced.push_back('.');
      namespaced.append(expression.key);
      const std::optional<std::string_view> value =
          scope.outputs != nullptr ? scope.outputs->Get(namespaced) : std::nullopt;
      if (!value) return MissingOutput(scope.outputs, expression, whole);
      append(*value);
      return Status::Ok();
    }
  }
  return Internal("unhandled template expression kind");
}

template <typename Append>
Status ExpandInto(std::string_view text, const TemplateScope& scope, std::string& out,
                  Append&& append_value) {
  return Scan(
      text, [&out](std::string_view literal) { out.append(literal); },
      [&](std::string_view whole, std::string_view expression) {
        return Resolve(scope, whole, expression, append_value);
      });
}

}  // namespace

Result<std::string> ExpandTemplates(std::string_view text, const TemplateScope& scope) {
  if (!HasTemplates(text)) return std::string(text);
  std::string out;
  out.reserve(text.size());
  PETIT_RETURN_IF_ERROR(
      ExpandInto(text, scope, out, [&out](std::string_view value) { out.append(value); }));
  return out;
}

Result<std::string> ExpandTemplatesInJson(std::string_view json, const TemplateScope& scope) {
  if (!HasTemplates(json)) return std::string(json);
  std::string out;
  out.reserve(json.size());
  const auto append_escaped = [&out](std::string_view value) { AppendJsonEscaped(out, value); };
  size_t pos = 0;
  for (;;) {
    const size_t quote = json.find('"', pos);
    if (quote == std::string_view::npos) {
      out.append(json.substr(pos));
      return out;
    }
    out.append(json.substr(pos, quote + 1 - pos));
    size_t end = quote + 1;
    for (;;) {
      end = json.find_first_of("\"\\", end);
      if (end == std::string_view::npos || json[end] == '"') break;
      end += 2;  // the backslash and the character it escapes
    }
    if (end >= json.size()) {
      return InvalidArgument("malformed JSON: the string literal at byte " + std::to_string(quote) +
                             " is not terminated");
    }
    const std::string_view literal = json.substr(quote + 1, end - quote - 1);
    if (HasTemplates(literal)) {
      PETIT_RETURN_IF_ERROR(ExpandInto(literal, scope, out, append_escaped));
    } else {
      out.append(literal);
    }
    out.push_back('"');
    pos = end + 1;
  }
}

std::vector<std::string> ReferencedTasks(std::string_view text) {
  std::vector<std::string> tasks;
  // The scan stops only at an unterminated template, after which nothing can be referenced.
  [[maybe_unused]] const Status scanned = Scan(
      text, [](std::string_view) {},
      [&tasks](std::string_view whole, std::string_view expression) {
        Result<Expression> parsed = ParseExpression(expression, whole);
        if (!parsed.ok() || parsed->kind != ExpressionKind::kOutput) return Status::Ok();
        for (const std::string& seen : tasks) {
          if (seen == parsed->task) return Status::Ok();
        }
        tasks.emplace_back(parsed->task);
        return Status::Ok();
      });
  return tasks;
}

Status CheckTemplates(std::string_view text) {
  if (!HasTemplates(text)) return Status::Ok();
  return Scan(
      text, [](std::string_view) {},
      [](std::string_view whole, std::string_view expression) {
        return ParseExpression(expression, whole).status();
      });
}

}  // namespace petit
