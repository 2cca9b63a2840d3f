#include "command_spec.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <iterator>
#include <string>
#include <string_view>
#include <utility>

namespace petit::command {
namespace {

using sdk::Json;
using sdk::Result;
using sdk::Status;

// Beyond this a timeout is a typo, and milliseconds of it would overflow an int64 nanosecond clock.
constexpr double kMaxTimeoutSecs = 1e9;

Status RejectNul(std::string_view what, std::string_view value) {
  if (value.find('\0') == std::string_view::npos) return Status::Ok();
  return Status::InvalidParams("parameter '" + std::string(what) + "' contains a NUL byte");
}

// Environment values may be written as numbers or booleans in YAML; they reach the child as text.
Result<std::string> EnvValue(const std::string& name, const Json& value) {
  switch (value.type()) {
    case Json::Type::kString:
      return value.string_value();
    case Json::Type::kNumber:
    case Json::Type::kBool:
      return value.Dump();
    default:
      return Status::InvalidParams("parameter 'environment." + name +
                                   "' must be a string, number or boolean, not " +
                                   std::string(Json::TypeName(value.type())));
  }
}

Status ParseEnvironment(const Json& params, CommandSpec& spec) {
  const Json* environment = params.Find("environment");
  if (environment == nullptr) return Status::Ok();
  if (!environment->is_object()) {
    return Status::InvalidParams("parameter 'environment' must be an object, not " +
                                 std::string(Json::TypeName(environment->type())));
  }
  std::vector<std::pair<std::string, std::string>> entries;
  for (const auto& [name, json_value] : environment->object_items()) {
    if (name.empty() || name.find('=') != std::string::npos) {
      return Status::InvalidParams("environment variable name '" + name +
                                   "' is empty or contains '='");
    }
    if (Status nul = RejectNul("environment", name); !nul.ok()) return nul;
    if (std::find(std::begin(kPetitVariables), std::end(kPetitVariables), name) !=
        std::end(kPetitVariables)) {
      return Status::InvalidParams("environment variable '" + name +
                                   "' is set by petit for every command and cannot be overridden");
    }
    Result<std::string> value = EnvValue(name, json_value);
    if (!value.ok()) return value.status();
    if (Status nul = RejectNul("environment." + name, *value); !nul.ok()) return nul;
    if (name == "PATH") {
      spec.path_overridden = true;
      spec.path_override = *value;
    }
    entries.emplace_back(name, std::move(value).value());
  }
  for (auto& [name, value] : entries) {
    spec.env_override_prefixes.push_back(name + "=");
    spec.env_overrides.push_back(name + "=" + value);
  }
  // Sorted as "NAME=" strings, not as names: '=' sorts after '-' and '.', so the orders differ.
  std::sort(spec.env_override_prefixes.begin(), spec.env_override_prefixes.end());
  return Status::Ok();
}

Status ParseProgram(const Json& params, CommandSpec& spec) {
  const bool has_command = params.Has("command");
  const bool has_shell = params.Has("shell");
  if (has_command && has_shell) {
    return Status::InvalidParams("parameters 'command' and 'shell' are mutually exclusive");
  }
  if (!has_command && !has_shell) {
    return Status::InvalidParams("missing required parameter 'command' (or 'shell')");
  }
  if (has_shell) {
    if (params.Has("args")) {
      return Status::InvalidParams(
          "parameter 'args' cannot be combined with 'shell' (write the arguments in the script)");
    }
    Result<std::string_view> script = params.GetString("shell");
    if (!script.ok()) return script.status();
    if (Status nul = RejectNul("shell", *script); !nul.ok()) return nul;
    spec.shell = true;
    spec.program = "/bin/sh";
    spec.argv = {"/bin/sh", "-c", std::string(*script)};
    return Status::Ok();
  }
  Result<std::string_view> command = params.GetString("command");
  if (!command.ok()) return command.status();
  if (command->empty()) return Status::InvalidParams("parameter 'command' must not be empty");
  if (Status nul = RejectNul("command", *command); !nul.ok()) return nul;
  Result<std::vector<std::string>> args = params.GetStringArray("args");
  if (!args.ok()) return args.status();
  for (size_t i = 0; i < args->size(); ++i) {
    if (Status nul = RejectNul("args[" + std::to_string(i) + "]", (*args)[i]); !nul.ok()) {
      return nul;
    }
  }
  spec.program = std::string(*command);
  spec.argv.reserve(args->size() + 1);
  spec.argv.push_back(spec.program);
  for (std::string& arg : *args) spec.argv.push_back(std::move(arg));
  return Status::Ok();
}

Status ParseLimits(const Json& params, CommandSpec& spec) {
  if (params.Has("timeout_secs")) {
    Result<double> secs = params.GetNumber("timeout_secs");
    if (!secs.ok()) return secs.status();
    if (!(*secs > 0) || *secs > kMaxTimeoutSecs) {
      return Status::InvalidParams("parameter 'timeout_secs' must be > 0 and at most 1e9, not " +
                                   params.Find("timeout_secs")->Dump());
    }
    spec.timeout = std::chrono::milliseconds(static_cast<int64_t>(std::ceil(*secs * 1000)));
  }
  Result<int64_t> grace = params.GetInt("kill_grace_ms", kDefaultKillGrace.count());
  if (!grace.ok()) return grace.status();
  if (*grace < 0) return Status::InvalidParams("parameter 'kill_grace_ms' must be >= 0");
  spec.kill_grace = std::chrono::milliseconds(*grace);
  return Status::Ok();
}

}  // namespace

extern const char kCommandParamsSchema[] = R"json({
  "type": "object",
  "properties": {
    "command": {"type": "string", "minLength": 1, "pattern": "^[^\\x00]*$",
                "description": "program to run; looked up in PATH when it has no '/'"},
    "args": {"type": "array", "items": {"type": "string", "pattern": "^[^\\x00]*$"},
             "description": "arguments, passed as they are (no shell)"},
    "shell": {"type": "string", "pattern": "^[^\\x00]*$",
              "description": "script run with /bin/sh -c"},
    "environment": {"type": "object",
                    "propertyNames": {"pattern": "^[^=\\x00]+$",
                                      "description": "names are not empty and have no '=' nor NUL"},
                    "additionalProperties": {"type": ["string", "number", "boolean"],
                                             "pattern": "^[^\\x00]*$"},
                    "description": "variables set on top of the inherited environment"},
    "env_clear": {"type": "boolean", "default": false,
                  "description": "start from an empty environment"},
    "working_dir": {"type": "string", "minLength": 1, "pattern": "^[^\\x00]*$"},
    "timeout_secs": {"type": "number", "exclusiveMinimum": 0,
                     "description": "per-attempt timeout; the smaller of this and the job's wins"},
    "kill_grace_ms": {"type": "integer", "minimum": 0, "default": 5000,
                      "description": "delay between SIGTERM and SIGKILL on timeout or cancel"}
  },
  "oneOf": [{"required": ["command"]}, {"required": ["shell"]}],
  "not": {"required": ["shell", "args"]},
  "additionalProperties": false
})json";

Result<CommandSpec> ParseCommandSpec(const Json& params) {
  if (Status keys = params.CheckKeys({"command", "args", "shell", "environment", "env_clear",
                                      "working_dir", "timeout_secs", "kill_grace_ms"});
      !keys.ok()) {
    return keys;
  }
  CommandSpec spec;
  if (Status program = ParseProgram(params, spec); !program.ok()) return program;
  if (Status environment = ParseEnvironment(params, spec); !environment.ok()) return environment;
  Result<bool> env_clear = params.GetBool("env_clear", false);
  if (!env_clear.ok()) return env_clear.status();
  spec.env_clear = *env_clear;
  Result<std::string_view> working_dir = params.GetString("working_dir", "");
  if (!working_dir.ok()) return working_dir.status();
  if (params.Has("working_dir") && working_dir->empty()) {
    return Status::InvalidParams("parameter 'working_dir' must not be empty");
  }
  if (Status nul = RejectNul("working_dir", *working_dir); !nul.ok()) return nul;
  spec.working_dir = std::string(*working_dir);
  if (Status limits = ParseLimits(params, spec); !limits.ok()) return limits;
  return Result<CommandSpec>(std::move(spec));
}

}  // namespace petit::command
