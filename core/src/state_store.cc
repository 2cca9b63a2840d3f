#include "petit/core/state_store.h"

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

namespace petit {
namespace {

// base64url without padding (RFC 4648 section 5): URL- and header-safe, and plainly not something
// to take apart.
constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string Base64UrlEncode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3);
  uint32_t buffer = 0;
  int bits = 0;
  for (const char c : bytes) {
    buffer = (buffer << 8) | static_cast<unsigned char>(c);
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kAlphabet[(buffer >> bits) & 0x3f];
    }
  }
  if (bits > 0) out += kAlphabet[(buffer << (6 - bits)) & 0x3f];
  return out;
}

// Strict: only the alphabet, no padding, no impossible length, and the unused low bits of the
// last character zero, so every byte string has exactly one encoding.
bool Base64UrlDecode(std::string_view text, std::string& bytes) {
  if (text.size() % 4 == 1) return false;
  uint32_t buffer = 0;
  int bits = 0;
  for (const char c : text) {
    const size_t value = kAlphabet.find(c);
    if (value == std::string_view::npos) return false;
    buffer = (buffer << 6) | static_cast<uint32_t>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes += static_cast<char>((buffer >> bits) & 0xff);
    }
  }
  return (buffer & ((1u << bits) - 1)) == 0;
}

Status BadCursor() {
  return InvalidArgument("invalid cursor: pass the next_cursor of a previous page, unchanged");
}

}  // namespace

std::string RunAdmission::Describe() const {
  switch (verdict) {
    case Verdict::kAdmitted:
      return "";
    case Verdict::kAtLimit: {
      std::string text = "refused: " + std::to_string(active_runs) + " active run" +
                         (active_runs == 1 ? "" : "s") + " of max " +
                         std::to_string(max_active_runs) + " (max_concurrency)";
      if (!other.empty()) text += ", newest " + other.str();
      return text;
    }
    case Verdict::kOccurrenceTaken:
      return "refused: occurrence already created by " +
             (other_owner.empty() ? std::string("another host") : other_owner) + " as run " +
             other.str();
  }
  return "refused";
}

// The payload is "<created_us>.<run id>".
std::string EncodeRunCursor(const RunCursor& cursor) {
  return Base64UrlEncode(std::to_string(cursor.created_us) + "." + cursor.id.str());
}

Result<RunCursor> DecodeRunCursor(std::string_view text) {
  std::string payload;
  // A cursor is about 60 characters; anything far longer was not made here.
  if (text.empty() || text.size() > 128 || !Base64UrlDecode(text, payload)) return BadCursor();
  const size_t dot = payload.find('.');
  if (dot == std::string::npos || dot == 0) return BadCursor();
  RunCursor cursor;
  const char* first = payload.data();
  const char* last = payload.data() + dot;
  // from_chars accepts a leading '-' but no '+' or spaces; the number must fill its part.
  auto [end, error] = std::from_chars(first, last, cursor.created_us);
  if (error != std::errc() || end != last) return BadCursor();
  if (std::to_string(cursor.created_us) != std::string_view(first, dot)) return BadCursor();
  const std::string_view id_text = std::string_view(payload).substr(dot + 1);
  Result<RunId> id = RunId::Parse(id_text);
  if (!id.ok() || id->str() != id_text) return BadCursor();
  cursor.id = std::move(id).value();
  return cursor;
}

std::vector<Result<RunAdmission>> StateStore::AdmitRuns(std::span<const RunToAdmit> runs) {
  std::vector<Result<RunAdmission>> answers;
  answers.reserve(runs.size());
  for (const RunToAdmit& one : runs) answers.push_back(AdmitRun(one.run, one.max_active_runs));
  return answers;
}

AdmissionCommit StateStore::AdmitRunsAndSaveJobs(std::span<const RunToAdmit> runs,
                                                 std::span<const JobRecord> jobs) {
  AdmissionCommit commit;
  if (!jobs.empty()) commit.jobs_saved = jobs.size() == 1 ? SaveJob(jobs.front()) : SaveJobs(jobs);
  if (!runs.empty()) commit.admissions = AdmitRuns(runs);
  return commit;
}

Status StateStore::SaveAttemptsAndUpdateRun(std::span<const AttemptRecord> attempts,
                                            const RunRecord& run) {
  PETIT_RETURN_IF_ERROR(SaveAttempts(attempts));
  return UpdateRun(run);
}

Status StateStore::SaveJobs(std::span<const JobRecord> jobs) {
  for (const JobRecord& job : jobs) PETIT_RETURN_IF_ERROR(SaveJob(job));
  return Status::Ok();
}

}  // namespace petit
