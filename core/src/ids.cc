#include "petit/core/ids.h"

#include <algorithm>
#include <array>
#include <cassert>
#include <chrono>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>

#include "petit/core/mutex.h"
#include "petit/core/thread_annotations.h"
#include "petit/core/utf8.h"
#include "text.h"

namespace petit {
namespace {

constexpr size_t kMaxNameLength = 128;

bool IsNameStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

bool IsNameChar(char c) { return IsNameStart(c) || c == '.' || c == '-'; }

// RFC 9562 UUIDv7, with the monotonic counter of §6.2 method 1: the 12 bits of rand_a and the top
// 30 bits of rand_b form a 42-bit counter. It starts at a random value below 2^41 in every new
// millisecond and counts up by one per id, so ids of one millisecond sort in creation order and
// stay unguessable; the last 32 bits are fresh random bits in every id.
constexpr int kCounterBits = 42;
constexpr uint64_t kCounterLimit = uint64_t{1} << kCounterBits;
constexpr uint64_t kCounterSeedLimit = uint64_t{1} << (kCounterBits - 1);
constexpr int64_t kMaxUnixMs = (int64_t{1} << 48) - 1;
constexpr size_t kUuidTextLength = 36;

class UuidV7Generator {
 public:
  UuidV7Generator() {
    std::random_device device;
    std::seed_seq seed{device(), device(), device(), device(), device(), device()};
    rng_.seed(seed);
  }

  // `keep_monotonic`: never go below the last timestamp used, so a system clock stepping back
  // does not break ordering. Ids with an explicit timestamp take it as given.
  std::string Next(int64_t unix_ms, bool keep_monotonic) EXCLUDES(mu_) {
    assert(unix_ms >= 0 && unix_ms <= kMaxUnixMs && "UUIDv7 holds 48 bits of milliseconds");
    MutexLock lock(mu_);
    if (keep_monotonic) unix_ms = std::max(unix_ms, last_ms_);
    if (unix_ms == last_ms_ && counter_ + 1 < kCounterLimit) {
      ++counter_;
    } else {
      // Counter exhausted (2^41 ids in one millisecond): borrow the next millisecond, as RFC 9562
      // §6.2 allows, rather than lose ordering.
      if (unix_ms == last_ms_) ++unix_ms;
      counter_ = rng_() % kCounterSeedLimit;
    }
    last_ms_ = unix_ms;
    const uint64_t random_tail = rng_() & 0xffffffffu;

    const uint64_t high =
        (static_cast<uint64_t>(unix_ms) << 16) | (uint64_t{0x7} << 12) | ((counter_ >> 30) & 0xfff);
    const uint64_t low =
        (uint64_t{0x2} << 62) | ((counter_ & ((uint64_t{1} << 30) - 1)) << 32) | random_tail;
    return Format(high, low);
  }

 private:
  static std::string Format(uint64_t high, uint64_t low) {
    static constexpr std::string_view kHex = "0123456789abcdef";
    std::string text;
    text.reserve(kUuidTextLength);
    auto put = [&](uint64_t word, int first_nibble, int last_nibble) {
      for (int nibble = first_nibble; nibble < last_nibble; ++nibble) {
        text += kHex[(word >> (60 - 4 * nibble)) & 0xf];
      }
    };
    put(high, 0, 8);
    text += '-';
    put(high, 8, 12);
    text += '-';
    put(high, 12, 16);
    text += '-';
    put(low, 0, 4);
    text += '-';
    put(low, 4, 16);
    return text;
  }

  Mutex mu_;
  std::mt19937_64 rng_ GUARDED_BY(mu_);
  int64_t last_ms_ GUARDED_BY(mu_) = -1;
  uint64_t counter_ GUARDED_BY(mu_) = 0;
};

// Two generators so that ids made for a virtual clock (often far in the past or future) cannot
// drag the real-time generator's monotonic floor along with them.
UuidV7Generator& SystemTimeGenerator() {
  static auto* generator = new UuidV7Generator();
  return *generator;
}

UuidV7Generator& GivenTimeGenerator() {
  static auto* generator = new UuidV7Generator();
  return *generator;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool IsDashPosition(size_t i) { return i == 8 || i == 13 || i == 18 || i == 23; }

}  // namespace

Status ValidateName(std::string_view value, std::string_view what) {
  using internal::Quoted;
  if (value.empty()) return InvalidArgument(std::string(what) + " must not be empty");
  if (value.size() > kMaxNameLength) {
    return InvalidArgument(std::string(what) + " " + Quoted(value) + " is " +
                           std::to_string(value.size()) + " characters long (at most " +
                           std::to_string(kMaxNameLength) + ")");
  }
  if (!IsNameStart(value.front())) {
    return InvalidArgument(std::string(what) + " " + Quoted(value) +
                           " must start with a letter, a digit or '_'");
  }
  for (size_t i = 1; i < value.size(); ++i) {
    if (IsNameChar(value[i])) continue;
    return InvalidArgument(
        std::string(what) + " " + Quoted(value) + " contains " +
        Quoted(value.substr(i, std::max<size_t>(1, Utf8SequenceLength(value, i)))) +
        " at position " + std::to_string(i + 1) + " (allowed: letters, digits, '_', '.', '-')");
  }
  return Status::Ok();
}

RunId RunId::Generate() {
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  return RunId(SystemTimeGenerator().Next(now_ms, /*keep_monotonic=*/true));
}

RunId RunId::GenerateAt(int64_t unix_ms) {
  return RunId(GivenTimeGenerator().Next(unix_ms, /*keep_monotonic=*/false));
}

Result<RunId> RunId::Parse(std::string_view text) {
  const std::string shown = internal::Quoted(text);
  if (text.size() != kUuidTextLength) {
    return InvalidArgument("run id " + shown + " is not a UUID (expected 36 characters, got " +
                           std::to_string(text.size()) + ")");
  }
  std::string canonical(text);
  for (size_t i = 0; i < canonical.size(); ++i) {
    if (IsDashPosition(i)) {
      if (canonical[i] != '-') {
        return InvalidArgument("run id " + shown + " is not a UUID (expected '-' at position " +
                               std::to_string(i + 1) + ")");
      }
      continue;
    }
    if (HexValue(canonical[i]) < 0) {
      return InvalidArgument("run id " + shown + " is not a UUID (" +
                             internal::Quoted(text.substr(i, 1)) + " at position " +
                             std::to_string(i + 1) + " is not a hex digit)");
    }
    if (canonical[i] >= 'A' && canonical[i] <= 'F') canonical[i] = canonical[i] - 'A' + 'a';
  }
  if (canonical[14] != '7') {
    return InvalidArgument("run id " + shown + " is a version " + canonical.substr(14, 1) +
                           " UUID; run ids are version 7");
  }
  if (HexValue(canonical[19]) < 8 || HexValue(canonical[19]) > 11) {
    return InvalidArgument("run id " + shown + " does not have the RFC 9562 variant bits");
  }
  return RunId(std::move(canonical));
}

int64_t RunId::unix_ms() const {
  if (value_.empty()) return 0;
  int64_t ms = 0;
  for (size_t i = 0; i < 13; ++i) {
    if (i == 8) continue;
    ms = (ms << 4) | HexValue(value_[i]);
  }
  return ms;
}

}  // namespace petit
