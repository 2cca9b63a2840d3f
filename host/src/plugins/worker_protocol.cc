#include "plugins/worker_protocol.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <utility>
#include <vector>

namespace petit::host::internal {
namespace {

constexpr size_t kHeaderSize = 5;  // type, u32 size

template <typename T>
void PutRaw(std::string& out, T value) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));  // the host and the worker are the same binary
  out.append(bytes, sizeof(T));
}

uint32_t ReadSize(const char* p) {
  uint32_t size;
  std::memcpy(&size, p, sizeof size);
  return size;
}

bool KnownType(uint8_t type) {
  return type >= static_cast<uint8_t>(FrameType::kAttempt) &&
         type <= static_cast<uint8_t>(FrameType::kHello);
}

Status BadFrame(const std::string& what) { return Internal("plugin worker protocol: " + what); }

}  // namespace

FrameWriter::FrameWriter(FrameType type) {
  buffer_.push_back(static_cast<char>(type));
  PutRaw<uint32_t>(buffer_, 0);
}

FrameWriter& FrameWriter::U8(uint8_t value) {
  buffer_.push_back(static_cast<char>(value));
  return *this;
}
FrameWriter& FrameWriter::U32(uint32_t value) {
  PutRaw(buffer_, value);
  return *this;
}
FrameWriter& FrameWriter::I64(int64_t value) {
  PutRaw(buffer_, value);
  return *this;
}
FrameWriter& FrameWriter::F64(double value) {
  PutRaw(buffer_, value);
  return *this;
}
FrameWriter& FrameWriter::Str(std::string_view value) {
  PutRaw(buffer_, static_cast<uint32_t>(value.size()));
  buffer_.append(value);
  return *this;
}

const std::string& FrameWriter::Finish() {
  const auto size = static_cast<uint32_t>(buffer_.size() - kHeaderSize);
  std::memcpy(buffer_.data() + 1, &size, sizeof size);
  return buffer_;
}

bool FrameReader::Take(size_t size, const char** out) {
  if (!ok_ || data_.size() < size) {
    ok_ = false;
    return false;
  }
  *out = data_.data();
  data_.remove_prefix(size);
  return true;
}

uint8_t FrameReader::U8() {
  const char* p;
  return Take(1, &p) ? static_cast<uint8_t>(*p) : 0;
}
uint32_t FrameReader::U32() {
  const char* p;
  return Take(4, &p) ? ReadSize(p) : 0;
}
int64_t FrameReader::I64() {
  const char* p;
  int64_t value = 0;
  if (Take(8, &p)) std::memcpy(&value, p, 8);
  return value;
}
double FrameReader::F64() {
  const char* p;
  double value = 0;
  if (Take(8, &p)) std::memcpy(&value, p, 8);
  return value;
}
std::string_view FrameReader::Str() {
  const uint32_t size = U32();
  const char* p;
  return Take(size, &p) ? std::string_view(p, size) : std::string_view();
}

std::optional<std::pair<FrameType, std::string>> FrameBuffer::Next(Status* error) {
  const size_t available = buffer_.size() - consumed_;
  if (available < kHeaderSize) return std::nullopt;
  const char* head = buffer_.data() + consumed_;
  const auto type = static_cast<uint8_t>(head[0]);
  const uint32_t size = ReadSize(head + 1);
  if (!KnownType(type) || size > kMaxFramePayload) {
    *error =
        BadFrame("frame of type " + std::to_string(type) + " and size " + std::to_string(size));
    return std::nullopt;
  }
  if (available < kHeaderSize + size) return std::nullopt;
  std::pair<FrameType, std::string> frame{static_cast<FrameType>(type),
                                          std::string(head + kHeaderSize, size)};
  consumed_ += kHeaderSize + size;
  // Compact once the consumed prefix dominates, so the buffer never grows with the stream.
  if (consumed_ == buffer_.size()) {
    buffer_.clear();
    consumed_ = 0;
  } else if (consumed_ > buffer_.size() / 2) {
    buffer_.erase(0, consumed_);
    consumed_ = 0;
  }
  return frame;
}

Status SendAll(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Unavailable(std::string("writing to the plugin worker socket: ") +
                         std::strerror(errno));
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

namespace {

// Reads exactly `size` bytes; false at end of stream or on an error.
bool ReadExactly(int fd, char* out, size_t size) {
  while (size > 0) {
    const ssize_t n = ::read(fd, out, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    out += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

Result<std::pair<FrameType, std::string>> ReadFrame(int fd) {
  char head[kHeaderSize];
  if (!ReadExactly(fd, head, kHeaderSize)) return Unavailable("the peer closed the socket");
  const auto type = static_cast<uint8_t>(head[0]);
  const uint32_t size = ReadSize(head + 1);
  if (!KnownType(type) || size > kMaxFramePayload) {
    return BadFrame("frame of type " + std::to_string(type) + " and size " + std::to_string(size));
  }
  std::string payload(size, '\0');
  if (!ReadExactly(fd, payload.data(), size)) return Unavailable("the peer closed the socket");
  return std::pair<FrameType, std::string>{static_cast<FrameType>(type), std::move(payload)};
}

std::string EncodeAttempt(const AttemptRequest& request) {
  FrameWriter frame(FrameType::kAttempt);
  frame.Str(request.job.str())
      .Str(request.run.str())
      .Str(request.task.str())
      .Str(request.type)
      .U32(request.attempt)
      .Str(request.params_json)
      .I64(request.timeout.count());
  // Inputs: the count first, so a reader knows how many follow.
  std::vector<std::pair<std::string_view, const ValueMap*>> tasks;
  if (request.inputs != nullptr) {
    request.inputs->ForEach([&](std::string_view task, const ValueMap& outputs) {
      tasks.emplace_back(task, &outputs);
    });
  }
  frame.U32(static_cast<uint32_t>(tasks.size()));
  for (const auto& [task, outputs] : tasks) {
    frame.Str(task).U32(static_cast<uint32_t>(outputs->size()));
    for (const auto& [key, value] : *outputs) frame.Str(key).Str(value);
  }
  const size_t config_size = request.config != nullptr ? request.config->size() : 0;
  frame.U32(static_cast<uint32_t>(config_size));
  if (request.config != nullptr) {
    for (const auto& [key, value] : *request.config) frame.Str(key).Str(value);
  }
  return frame.Finish();
}

Result<AttemptRequest> DecodeAttempt(std::string_view payload) {
  FrameReader in(payload);
  AttemptRequest request;
  request.job = JobId(std::string(in.Str()));
  if (const std::string_view run = in.Str(); !run.empty()) {
    Result<RunId> parsed = RunId::Parse(run);
    if (!parsed.ok()) return BadFrame("malformed run id: " + parsed.status().message());
    request.run = *parsed;
  }
  request.task = TaskId(std::string(in.Str()));
  request.type = std::string(in.Str());
  request.attempt = in.U32();
  request.params_json = std::string(in.Str());
  request.timeout = std::chrono::milliseconds(in.I64());
  auto inputs = std::make_shared<RunOutputs>();
  const uint32_t tasks = in.U32();
  for (uint32_t t = 0; t < tasks && in.ok(); ++t) {
    TaskId task{std::string(in.Str())};
    ValueMap outputs;
    const uint32_t count = in.U32();
    for (uint32_t i = 0; i < count && in.ok(); ++i) {
      std::string key(in.Str());
      outputs.insert_or_assign(std::move(key), std::string(in.Str()));
    }
    if (in.ok()) PETIT_RETURN_IF_ERROR(inputs->Add(task, outputs));
  }
  auto config = std::make_shared<ValueMap>();
  const uint32_t config_size = in.U32();
  for (uint32_t i = 0; i < config_size && in.ok(); ++i) {
    std::string key(in.Str());
    config->insert_or_assign(std::move(key), std::string(in.Str()));
  }
  if (!in.ok() || !in.at_end()) return BadFrame("malformed attempt");
  request.inputs = std::move(inputs);
  request.config = std::move(config);
  return request;
}

std::string EncodeDone(const AttemptResult& result) {
  FrameWriter frame(FrameType::kDone);
  frame.U8(static_cast<uint8_t>(result.outcome))
      .U8(result.exit_code.has_value() ? 1 : 0)
      .U32(static_cast<uint32_t>(result.exit_code.value_or(0)))
      .Str(result.error);
  return frame.Finish();
}

Result<AttemptResult> DecodeDone(std::string_view payload) {
  FrameReader in(payload);
  AttemptResult result;
  const uint8_t outcome = in.U8();
  const bool has_exit_code = in.U8() != 0;
  const auto exit_code = static_cast<int32_t>(in.U32());
  result.error = std::string(in.Str());
  if (!in.ok() || !in.at_end() || outcome > static_cast<uint8_t>(AttemptOutcome::kInvalidParams)) {
    return BadFrame("malformed result");
  }
  result.outcome = static_cast<AttemptOutcome>(outcome);
  if (has_exit_code) result.exit_code = exit_code;
  return result;
}

}  // namespace petit::host::internal
