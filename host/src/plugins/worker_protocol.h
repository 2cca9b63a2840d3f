// The wire format between the host and a plugin worker (`petit __plugin-worker`, process
// isolation): length-prefixed frames over a Unix stream socket pair.
//
// A frame is a 1-byte type, a 4-byte little-endian payload size, then the payload: fixed-width
// integers in little-endian order and strings as a 4-byte size followed by the bytes. Host to
// worker: one kAttempt, then at most one kCancel. Worker to host: any number of kOutput, kLog,
// kProgress and kSetOutput while the attempt runs, then exactly one kDone (or one kFatal when the
// worker cannot run the attempt at all). Both ends run the same binary, so the format carries no
// version of its own.
//
// Ownership: FrameWriter owns its buffer; FrameReader borrows the payload it reads.
// Threads: none of these types is shared; the worker serialises its writes (plugin_worker.cc).
#ifndef PETIT_HOST_PLUGINS_WORKER_PROTOCOL_H_
#define PETIT_HOST_PLUGINS_WORKER_PROTOCOL_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "petit/core/status.h"
#include "petit/core/task_runner.h"

namespace petit::host::internal {

// The worker finds its end of the socket pair here (the host dup2()s it before exec).
constexpr int kWorkerSocketFd = 3;

// The hidden subcommand that runs a worker: `petit __plugin-worker FILE TYPE PARENT_PID LIMIT_MB`.
constexpr std::string_view kWorkerCommand = "__plugin-worker";

// A frame larger than this is a broken peer, not a big output: outputs arrive in pieces.
constexpr uint32_t kMaxFramePayload = 64u << 20;

enum class FrameType : uint8_t {
  kAttempt = 1,    // host -> worker: the AttemptRequest
  kCancel = 2,     // host -> worker: empty
  kOutput = 3,     // worker -> host: u8 stream, bytes
  kLog = 4,        // worker -> host: u8 level, message
  kProgress = 5,   // worker -> host: f64 fraction, message
  kSetOutput = 6,  // worker -> host: key, value
  kDone = 7,       // worker -> host: u8 outcome, u8 has_exit_code, i32 exit_code, error
  kFatal = 8,      // worker -> host: message (the plugin could not be loaded, for instance)
  kHello = 9,      // worker -> host: u64 resident kB before the plugin is loaded
};

class FrameWriter {
 public:
  explicit FrameWriter(FrameType type);
  FrameWriter& U8(uint8_t value);
  FrameWriter& U32(uint32_t value);
  FrameWriter& I64(int64_t value);
  FrameWriter& F64(double value);
  FrameWriter& Str(std::string_view value);
  // The whole frame, header included; the size field is filled here.
  const std::string& Finish();

 private:
  std::string buffer_;
};

class FrameReader {
 public:
  explicit FrameReader(std::string_view payload) : data_(payload) {}
  uint8_t U8();
  uint32_t U32();
  int64_t I64();
  double F64();
  std::string_view Str();
  // False once any read ran past the end; the values read then are zero or empty.
  bool ok() const { return ok_; }
  bool at_end() const { return data_.empty(); }

 private:
  bool Take(size_t size, const char** out);

  std::string_view data_;
  bool ok_ = true;
};

// Splits complete frames off the front of a byte stream.
class FrameBuffer {
 public:
  void Append(std::string_view bytes) { buffer_.append(bytes); }
  // The next complete frame, or nullopt when more bytes are needed. Sets *error (and returns
  // nullopt) when the stream is not a frame stream.
  std::optional<std::pair<FrameType, std::string>> Next(Status* error);
  bool empty() const { return buffer_.size() == consumed_; }

 private:
  std::string buffer_;
  size_t consumed_ = 0;
};

// Writes all of `bytes`, retrying on EINTR and short writes; never raises SIGPIPE.
Status SendAll(int fd, std::string_view bytes);

// Reads one whole frame with blocking reads. kUnavailable at a clean end of stream.
Result<std::pair<FrameType, std::string>> ReadFrame(int fd);

// The attempt as it crosses: everything the worker's host services need, inputs and config
// included, so the worker never asks back.
std::string EncodeAttempt(const AttemptRequest& request);
Result<AttemptRequest> DecodeAttempt(std::string_view payload);

std::string EncodeDone(const AttemptResult& result);
Result<AttemptResult> DecodeDone(std::string_view payload);

}  // namespace petit::host::internal

#endif  // PETIT_HOST_PLUGINS_WORKER_PROTOCOL_H_
