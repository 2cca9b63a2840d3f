// The workload the crash-safety test kills, shared by crash_writer (which performs it) and
// crash_safety_test (which checks the database against it).
//
// crash_writer prints a transcript on stdout, one line per write(2), each shorter than PIPE_BUF,
// so a SIGKILL never tears a line:
//   do <n> create <run>                        before CreateRun (status running)
//   do <n> attempts <run> <task>=<state> ...   before SaveAttempts (one transaction)
//   do <n> log <run> <task> <seq> <size>       before AppendLog
//   do <n> finish <run>                        before UpdateRun (status succeeded)
//   ok <n>                                     after operation n returned OK: it is durable
// The content of every record is a pure function of these fields (the Make* functions), so the
// test knows the exact bytes an acknowledged operation stored without the writer sending them.
#ifndef PETIT_TESTS_STORAGE_BACKENDS_CRASH_WORKLOAD_H_
#define PETIT_TESTS_STORAGE_BACKENDS_CRASH_WORKLOAD_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "petit/core/state_store.h"
#include "petit/core/status.h"

namespace petit::testing {

inline constexpr std::string_view kCrashJob = "crash";
// Each transcript line, newline included, must fit one atomic pipe write (PIPE_BUF is 4096).
inline constexpr size_t kMaxTranscriptLine = 4096;

struct CrashOp {
  enum class Kind : uint8_t { kCreateRun, kSaveAttempts, kAppendLog, kFinishRun };

  uint64_t number = 0;
  Kind kind = Kind::kCreateRun;
  RunId run;
  std::vector<std::pair<uint32_t, TaskState>> attempts;  // kSaveAttempts: task index, new state
  uint32_t task = 0;                                     // kAppendLog
  uint32_t seq = 0;                                      // kAppendLog
  uint32_t size = 0;                                     // kAppendLog: bytes of data
};

// The "do ..." line of `op`, without the newline.
std::string FormatCrashOp(const CrashOp& op);
// Parses a "do ..." line (without the newline).
Result<CrashOp> ParseCrashOp(std::string_view line);

// The records an operation writes.
RunRecord MakeCrashRun(const RunId& run, RunStatus status);
AttemptRecord MakeCrashAttempt(const RunId& run, uint32_t task, TaskState state);
LogChunk MakeCrashLogChunk(const RunId& run, uint32_t task, uint32_t seq, uint32_t size);
TaskId CrashTaskId(uint32_t task);

}  // namespace petit::testing

#endif  // PETIT_TESTS_STORAGE_BACKENDS_CRASH_WORKLOAD_H_
