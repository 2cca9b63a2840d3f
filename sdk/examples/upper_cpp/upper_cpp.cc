// upper_cpp: a Petit plugin in C++ with petit/plugin.hpp.
//
// Task type upper_cpp.upper: params {"text": "...", "input": "<task>.<key>"} (both optional, at
// least one given). Uppercases `text`, followed by the upstream output named by `input` when
// there is one, and records the result as the output `text`.
#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "petit/plugin.hpp"

namespace {

using petit::sdk::Context;
using petit::sdk::CreateArgs;
using petit::sdk::Result;
using petit::sdk::Status;

constexpr const char kUpperSchema[] = R"({
  "type": "object",
  "properties": {
    "text": {"type": "string"},
    "input": {"type": "string", "description": "an upstream output, <task_id>.<key>"}
  },
  "anyOf": [{"required": ["text"]}, {"required": ["input"]}],
  "additionalProperties": false
})";

char ToUpper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; }

class UpperTask final : public petit::sdk::Task {
 public:
  UpperTask(std::string_view text, std::string_view input) : text_(text), input_(input) {}

  static Result<std::unique_ptr<UpperTask>> Create(const CreateArgs& args) {
    if (Status keys = args.params.CheckKeys({"text", "input"}); !keys.ok()) return keys;
    Result<std::string_view> text = args.params.GetString("text", "");
    if (!text.ok()) return text.status();
    Result<std::string_view> input = args.params.GetString("input", "");
    if (!input.ok()) return input.status();
    if (!args.params.Has("text") && input->empty()) {
      return Status::InvalidParams("give 'text', 'input' or both");
    }
    return std::make_unique<UpperTask>(*text, *input);
  }

  Status Execute(Context& context) override {
    std::string result(text_);
    if (!input_.empty()) {
      std::optional<std::string_view> upstream = context.Input(input_);
      if (!upstream) return Status::Error("input '" + std::string(input_) + "' not found");
      result.append(*upstream);
    }
    std::transform(result.begin(), result.end(), result.begin(), ToUpper);
    return context.SetOutput("text", result);
  }

 private:
  // Views into the params, which live as long as the task.
  const std::string_view text_;
  const std::string_view input_;
};

}  // namespace

PETIT_PLUGIN("upper_cpp", "1.0.0",
             petit::sdk::TaskType<UpperTask>("upper_cpp.upper",
                                             "Uppercases `text` (and an upstream output) into "
                                             "the output `text`",
                                             kUpperSchema, PETIT_TASK_IDEMPOTENT));
