// What to tell a person who wrote a key, or a value, that petit.yaml or a job file does not take.
//
// A bare "unknown key 'delay'" does not help someone used to another format. For an unknown key
// this says, in order of sureness: the key Petit spells differently that other orchestrators'
// users write (Airflow's `retries`, Dagu's `depends`, the original Petit's loose `delay` and
// `timeout`: the table in key_hints.cc), the key of this mapping meant in another case, unit or
// number (core's GuessName), or the same key at another level of the file and where it belongs
// (`max_attempts` on a task belongs under `retry`, `schedule` on a task belongs to the job). For a
// number written with a unit ("30s" for a key of seconds) it says what to write instead.
//
// Pure functions over static tables; any thread.
#ifndef PETIT_HOST_CONFIG_KEY_HINTS_H_
#define PETIT_HOST_CONFIG_KEY_HINTS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "petit/core/suggest.h"

namespace petit::host {

// The mappings of Petit's files whose keys are checked.
enum class KeyLevel : uint8_t {
  kJob,            // the top of a job file
  kSchedule,       // schedule: {cron, timezone}
  kJobDependency,  // an item of a job's depends_on: {job, condition}
  kTask,           // an item of tasks
  kRetry,          // a task's retry
  kGlobal,         // the top of petit.yaml
  kApi,            // petit.yaml's api
  kPlugins,        // petit.yaml's plugins
  kLogging,        // petit.yaml's logging
  kStorage,        // petit.yaml's storage: {type, path}
};

// The keys of `level`. For kTask: the keys every task takes (its form adds more; see
// AnyTaskKeys).
const std::vector<std::string_view>& KeysOf(KeyLevel level);

// Every key some task takes, whatever its type.
const std::vector<std::string_view>& AnyTaskKeys();

// What follows "unknown key '<key>' in <where>" when `key` is not among `allowed` (the keys of the
// mapping at `level`): " (did you mean 'timeout_secs'? it is in seconds)", " ('schedule' belongs
// to the job, not to a task)", ... or "" when nothing plausible comes to mind.
std::string UnknownKeyHint(std::string_view key, const std::vector<std::string_view>& allowed,
                           KeyLevel level);

// UnknownKeyHint for the unknown keys of one mapping: `allowed` is split into words once.
class KeyHinter {
 public:
  KeyHinter(const std::vector<std::string_view>& allowed, KeyLevel level);
  std::string Hint(std::string_view key) const;

 private:
  const std::vector<std::string_view>& allowed_;
  KeyLevel level_;
  NameGuesser here_;
};

// The unit the value of `key` is in ("seconds", "milliseconds", "megabytes", "bytes"), from its
// suffix or, for keys of durations named without one (shutdown_grace), from a table; or empty.
std::string_view UnitOfKey(std::string_view key);

// What follows "'<key>' must be a number" when the value `text` is not one: the key's unit and
// the value, then a quantity with a unit converted to the key's unit (" (seconds), not '5m':
// write timeout_secs: 300"), or else an example of the key's value. `integer`: the key takes whole
// numbers; `example` is a valid value.
std::string NumberHint(std::string_view key, std::string_view text, bool integer,
                       std::string_view example);

}  // namespace petit::host

#endif  // PETIT_HOST_CONFIG_KEY_HINTS_H_
