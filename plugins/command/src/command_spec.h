// CommandSpec: the command task's parameters, checked once in create and kept ready to spawn.
//
// Params (JSON object):
//   command       program to run, looked up in PATH when it has no '/' (required unless `shell`)
//   args          array of strings passed as they are (no shell, no splitting, no quoting)
//   shell         script run as `/bin/sh -c <shell>` (instead of `command` and `args`)
//   environment   object name -> value; the host's environment is inherited, then overridden;
//                 the variables petit sets itself (kPetitVariables) cannot be named
//   env_clear     bool (default false): start from an empty environment instead
//   working_dir   directory to run in (default: the host's)
//   timeout_secs  number > 0; the attempt timeout (petit_task_info.timeout_ms) also applies and
//                 the smaller wins
//   kill_grace_ms integer >= 0 (default 5000): SIGTERM to SIGKILL delay on timeout and cancel
//
// A value type; immutable after parsing, so it may be read from several threads.
#ifndef PETIT_PLUGINS_COMMAND_COMMAND_SPEC_H_
#define PETIT_PLUGINS_COMMAND_COMMAND_SPEC_H_

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "petit/plugin.hpp"

namespace petit::command {

inline constexpr std::chrono::milliseconds kDefaultKillGrace{5000};

// Set by the plugin for every command (see command_plugin.cc): an inherited value is replaced, and
// `environment` may not name them.
inline constexpr std::string_view kPetitVariables[] = {
    "PETIT_OUTPUT", "PETIT_RUN_ID", "PETIT_JOB_ID", "PETIT_TASK_ID", "PETIT_ATTEMPT"};

struct CommandSpec {
  // What to execute: the program as given (argv[0]) and the full argv.
  std::string program;
  std::vector<std::string> argv;
  bool shell = false;  // program is /bin/sh and argv is {"/bin/sh", "-c", script}

  bool env_clear = false;
  // "NAME=value" strings, and the NAME= prefixes (with '=') they replace in the inherited
  // environment, sorted so inheriting is a binary search per host variable.
  std::vector<std::string> env_overrides;
  std::vector<std::string> env_override_prefixes;
  // The PATH that applies to the child: the override, the host's, or empty when neither exists.
  bool path_overridden = false;
  std::string path_override;

  std::string working_dir;               // empty: inherit
  std::chrono::milliseconds timeout{0};  // from timeout_secs; 0 = none
  std::chrono::milliseconds kill_grace = kDefaultKillGrace;
};

// Checks and converts params; failures are kInvalidParams naming the parameter.
sdk::Result<CommandSpec> ParseCommandSpec(const sdk::Json& params);

// The JSON Schema of the params, for `petit plugins`.
extern const char kCommandParamsSchema[];

}  // namespace petit::command

#endif  // PETIT_PLUGINS_COMMAND_COMMAND_SPEC_H_
