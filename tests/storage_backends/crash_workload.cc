#include "storage_backends/crash_workload.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace petit::testing {
namespace {

// Microseconds; the run id's own millisecond timestamp anchors every time of the run.
constexpr int64_t kTaskSpacingUs = 1'000;
constexpr int64_t kRunLengthUs = 3'600'000'000;

std::vector<std::string_view> SplitWords(std::string_view line) {
  std::vector<std::string_view> words;
  size_t begin = 0;
  while (begin < line.size()) {
    const size_t end = std::min(line.find(' ', begin), line.size());
    if (end > begin) words.push_back(line.substr(begin, end - begin));
    begin = end + 1;
  }
  return words;
}

template <typename T>
bool ParseNumber(std::string_view text, T& value) {
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return error == std::errc() && end == text.data() + text.size();
}

Status Malformed(std::string_view line) {
  return InvalidArgument("malformed transcript line '" + std::string(line) + "'");
}

// splitmix64: a deterministic byte source that reaches every byte value.
uint64_t NextRandom(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

uint64_t Fnv1a(std::string_view text) {
  uint64_t hash = 0xCBF29CE484222325ULL;
  for (const char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001B3ULL;
  }
  return hash;
}

int64_t RunStartUs(const RunId& run) { return run.unix_ms() * 1000; }

}  // namespace

std::string FormatCrashOp(const CrashOp& op) {
  std::string line = "do " + std::to_string(op.number) + " ";
  switch (op.kind) {
    case CrashOp::Kind::kCreateRun:
      return line + "create " + op.run.str();
    case CrashOp::Kind::kFinishRun:
      return line + "finish " + op.run.str();
    case CrashOp::Kind::kAppendLog:
      return line + "log " + op.run.str() + " " + std::to_string(op.task) + " " +
             std::to_string(op.seq) + " " + std::to_string(op.size);
    case CrashOp::Kind::kSaveAttempts:
      line += "attempts " + op.run.str();
      for (const auto& [task, state] : op.attempts) {
        line += " " + std::to_string(task) + "=" + std::string(TaskStateName(state));
      }
      return line;
  }
  return line;
}

Result<CrashOp> ParseCrashOp(std::string_view line) {
  const std::vector<std::string_view> words = SplitWords(line);
  if (words.size() < 4 || words[0] != "do") return Malformed(line);
  CrashOp op;
  if (!ParseNumber(words[1], op.number)) return Malformed(line);
  Result<RunId> run = RunId::Parse(words[3]);
  if (!run.ok()) return Malformed(line);
  op.run = std::move(run).value();
  const std::string_view kind = words[2];
  if (kind == "create" || kind == "finish") {
    if (words.size() != 4) return Malformed(line);
    op.kind = kind == "create" ? CrashOp::Kind::kCreateRun : CrashOp::Kind::kFinishRun;
    return op;
  }
  if (kind == "log") {
    op.kind = CrashOp::Kind::kAppendLog;
    if (words.size() != 7 || !ParseNumber(words[4], op.task) || !ParseNumber(words[5], op.seq) ||
        !ParseNumber(words[6], op.size)) {
      return Malformed(line);
    }
    return op;
  }
  if (kind != "attempts" || words.size() < 5) return Malformed(line);
  op.kind = CrashOp::Kind::kSaveAttempts;
  for (size_t i = 4; i < words.size(); ++i) {
    const size_t equals = words[i].find('=');
    uint32_t task = 0;
    if (equals == std::string_view::npos || !ParseNumber(words[i].substr(0, equals), task)) {
      return Malformed(line);
    }
    Result<TaskState> state = ParseTaskState(words[i].substr(equals + 1));
    if (!state.ok()) return Malformed(line);
    op.attempts.emplace_back(task, *state);
  }
  return op;
}

TaskId CrashTaskId(uint32_t task) { return TaskId("t" + std::to_string(task)); }

RunRecord MakeCrashRun(const RunId& run, RunStatus status) {
  RunRecord record;
  record.id = run;
  record.job = JobId(std::string(kCrashJob));
  record.status = status;
  record.trigger = "crash-test";
  record.created_us = RunStartUs(run);
  record.started_us = record.created_us + 1;
  if (IsTerminal(status)) record.ended_us = record.created_us + kRunLengthUs;
  return record;
}

AttemptRecord MakeCrashAttempt(const RunId& run, uint32_t task, TaskState state) {
  AttemptRecord record;
  record.run = run;
  record.task = CrashTaskId(task);
  record.attempt = 1;
  record.state = state;
  record.queued_us = RunStartUs(run) + task * kTaskSpacingUs;
  record.started_us = record.queued_us + 1;
  if (!IsTerminal(state)) return record;
  record.ended_us = record.started_us + 7 * (task + 1);
  if (state == TaskState::kSucceeded) {
    record.exit_code = 0;
    record.outputs = {{"index", std::to_string(task)},
                      {"note", "line one\nline \"two\" \xC3\xA9\xE2\x9C\x93"},
                      {"run", run.str()}};
  } else {
    record.exit_code = static_cast<int32_t>(task % 120 + 1);
    record.error = "exit status " + std::to_string(*record.exit_code) + " \xE2\x9C\x97";
  }
  return record;
}

LogChunk MakeCrashLogChunk(const RunId& run, uint32_t task, uint32_t seq, uint32_t size) {
  LogChunk chunk;
  chunk.run = run;
  chunk.task = CrashTaskId(task);
  chunk.attempt = 1;
  chunk.stream = seq % 2 == 0 ? OutputStream::kStdout : OutputStream::kStderr;
  chunk.seq = seq;
  uint64_t state = Fnv1a(run.str()) ^ (static_cast<uint64_t>(task) << 32) ^ seq;
  chunk.data.resize(size);
  for (char& c : chunk.data) c = static_cast<char>(NextRandom(state) & 0xFF);
  return chunk;
}

}  // namespace petit::testing
