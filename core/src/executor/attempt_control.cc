#include "executor/attempt_control.h"

#include <algorithm>
#include <cstddef>
#include <string>
#include <utility>

#include "petit/core/store_outage.h"
#include "petit/core/utf8.h"
#include "text.h"

namespace petit::internal {
namespace {

// What one attempt's outputs may hold: they are kept in memory until it ends, then stored with it
// and handed to every downstream task, so a plugin (in process or not) or a task's output file
// must not grow them without bound. A value the command plugin reads is at most 1 MiB.
constexpr size_t kMaxOutputsPerAttempt = 10'000;
constexpr size_t kMaxOutputBytesPerAttempt = size_t{16} << 20;

}  // namespace

Status EngineAttemptControl::SetOutput(std::string_view key, std::string_view value) {
  PETIT_RETURN_IF_ERROR(ValidateOutputKey(key));
  MutexLock lock(outputs_mu_);
  const auto existing = outputs_.find(key);
  const size_t replaced = existing == outputs_.end() ? 0 : key.size() + existing->second.size();
  if (existing == outputs_.end() && outputs_.size() >= kMaxOutputsPerAttempt) {
    return ResourceExhausted("output " + Quoted(key) + " refused: an attempt may set at most " +
                             std::to_string(kMaxOutputsPerAttempt) + " outputs");
  }
  const size_t bytes = output_bytes_ - replaced + key.size() + value.size();
  if (bytes > kMaxOutputBytesPerAttempt) {
    return ResourceExhausted("output " + Quoted(key) + " (" + std::to_string(value.size()) +
                             " bytes) refused: the outputs of an attempt may hold at most " +
                             std::to_string(kMaxOutputBytesPerAttempt) + " bytes");
  }
  output_bytes_ = bytes;
  outputs_.insert_or_assign(std::string(key), std::string(value));
  has_outputs_.store(true, std::memory_order_release);
  return Status::Ok();
}

void EngineAttemptControl::AppendOutput(OutputStream stream, std::string_view bytes) {
  MutexLock lock(capture_mu_);
  captured_.store(true, std::memory_order_release);
  Capture& capture = stream == OutputStream::kStdout ? stdout_ : stderr_;
  if (capture.truncated || abandoned_) return;
  size_t room = cap_bytes_ - std::min(cap_bytes_, capture.total);
  bool overflow = bytes.size() > room;
  std::string_view kept = bytes.substr(0, room);
  capture.total += kept.size();
  capture.buffer.append(kept);
  if (overflow) {
    capture.truncated = true;
    capture.buffer.append("\n[petit] output truncated: more than " + std::to_string(cap_bytes_) +
                          " bytes on " + (stream == OutputStream::kStdout ? "stdout" : "stderr") +
                          "\n");
  }
  if (capture.buffer.size() >= kLogChunkBytes || capture.truncated) FlushLocked(stream, capture);
}

void EngineAttemptControl::Log(LogLevel level, std::string_view message) {
  static constexpr std::string_view kNames[] = {"debug", "info", "warn", "error"};
  std::string line = "[" + std::string(kNames[static_cast<size_t>(level) & 3]) + "] ";
  // One message, one line of plain text: it cannot forge the next line or carry an escape.
  line.append(PrintableLine(message));
  line.push_back('\n');
  AppendOutput(OutputStream::kStderr, line);
}

void EngineAttemptControl::ReportProgress(double fraction, std::string_view message) {
  std::string line = "[progress " + std::to_string(static_cast<int>(fraction * 100.0)) + "%]";
  if (!message.empty()) line.append(" ").append(PrintableLine(message));
  line.push_back('\n');
  AppendOutput(OutputStream::kStderr, line);
}

void EngineAttemptControl::OnCancel(std::function<void()> hook) {
  {
    MutexLock lock(cancel_mu_);
    if (!cancelled()) {
      hook_ = std::move(hook);
      return;
    }
  }
  if (hook) hook();
}

void EngineAttemptControl::Cancel(bool timed_out) {
  std::function<void()> hook;
  {
    MutexLock lock(cancel_mu_);
    if (cancelled()) return;
    timed_out_ = timed_out;
    cancelled_.store(true, std::memory_order_release);
    hook = std::move(hook_);
  }
  if (hook) hook();
}

bool EngineAttemptControl::timed_out() const {
  MutexLock lock(cancel_mu_);
  return timed_out_;
}

Status EngineAttemptControl::Finish(std::vector<LogChunk>& unwritten) {
  // Nothing captured: nothing to flush, nothing an outage kept, no failed write.
  if (!captured_.load(std::memory_order_acquire)) return Status::Ok();
  MutexLock lock(capture_mu_);
  if (!abandoned_) {
    FlushLocked(OutputStream::kStdout, stdout_);
    FlushLocked(OutputStream::kStderr, stderr_);
  }
  unwritten = std::move(unwritten_);
  unwritten_.clear();
  return write_status_;
}

void EngineAttemptControl::Abandon() {
  MutexLock lock(capture_mu_);
  FlushLocked(OutputStream::kStdout, stdout_);
  FlushLocked(OutputStream::kStderr, stderr_);
  abandoned_ = true;
}

std::vector<LogChunk> EngineAttemptControl::TakeUnwritten() {
  MutexLock lock(capture_mu_);
  return std::move(unwritten_);
}

bool EngineAttemptControl::RetryUnwrittenLocked() {
  size_t written = 0;
  for (; written < unwritten_.size(); ++written) {
    Status status = store_.AppendLog(unwritten_[written]);
    // Written by a try whose answer was lost.
    if (status.code() == StatusCode::kAlreadyExists) continue;
    if (!status.ok()) break;
  }
  unwritten_.erase(unwritten_.begin(), unwritten_.begin() + static_cast<ptrdiff_t>(written));
  return unwritten_.empty();
}

ValueMap EngineAttemptControl::TakeOutputs() {
  if (!has_outputs_.load(std::memory_order_acquire)) return {};
  MutexLock lock(outputs_mu_);
  return std::move(outputs_);
}

void EngineAttemptControl::FlushLocked(OutputStream stream, Capture& capture) {
  if (capture.buffer.empty()) return;
  LogChunk chunk{run_, task_, attempt_, stream, next_seq_++, std::move(capture.buffer)};
  capture.buffer.clear();
  // While the store is down, chunks queue up behind the first one it refused, in order.
  if (!unwritten_.empty() && !RetryUnwrittenLocked()) {
    unwritten_.push_back(std::move(chunk));
    return;
  }
  Status status = store_.AppendLog(chunk);
  if (status.ok()) return;
  if (IsStoreOutage(status)) {
    unwritten_.push_back(std::move(chunk));
    return;
  }
  if (write_status_.ok()) write_status_ = status.WithContext("storing output");
}

}  // namespace petit::internal
