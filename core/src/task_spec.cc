#include "petit/core/task_spec.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "enum_names.h"
#include "petit/core/suggest.h"

namespace petit {
namespace {

constexpr internal::EnumNames<RetryCondition, 4> kRetryConditionNames{{
    {RetryCondition::kAlways, "always"},
    {RetryCondition::kTransientOnly, "transient_only"},
    {RetryCondition::kNever, "never"},
    {RetryCondition::kOnExitCodes, "on_exit_codes"},
}};

constexpr internal::EnumNames<TriggerRule, 4> kTriggerRuleNames{{
    {TriggerRule::kAllSuccess, "all_success"},
    {TriggerRule::kOnFailure, "on_failure"},
    {TriggerRule::kAllDone, "all_done"},
    {TriggerRule::kAlways, "always"},
}};

// ParseName, offering the name meant when a job file's author misspelt it plainly
// ("all-success", "ALL_DONE", "alwyas", "transient"). No guess from a typo of three edits:
// Airflow's one_success is not all_success.
template <typename Enum, size_t N>
Result<Enum> ParseWrittenName(const internal::EnumNames<Enum, N>& names, std::string_view text,
                              std::string_view what) {
  Result<Enum> parsed = internal::ParseName(names, text, what);
  if (parsed.ok()) return parsed;
  std::vector<std::string_view> spellings;
  for (const auto& [value, name] : names) spellings.push_back(name);
  std::optional<NameGuess> guess = GuessName(text, spellings);
  if (!guess || (guess->kind == GuessKind::kTypo && guess->distance > 2)) return parsed;
  return InvalidArgument(parsed.status().message() + "; did you mean '" + guess->name + "'?");
}

std::string FormatMillis(std::chrono::milliseconds value) {
  return std::to_string(value.count()) + "ms";
}

}  // namespace

std::string_view RetryConditionName(RetryCondition condition) {
  return internal::NameOf(kRetryConditionNames, condition);
}

Result<RetryCondition> ParseRetryCondition(std::string_view text) {
  return ParseWrittenName(kRetryConditionNames, text, "retry condition");
}

std::string_view TriggerRuleName(TriggerRule rule) {
  return internal::NameOf(kTriggerRuleNames, rule);
}

Result<TriggerRule> ParseTriggerRule(std::string_view text) {
  return ParseWrittenName(kTriggerRuleNames, text, "trigger rule");
}

bool RetryPolicy::ShouldRetry(uint32_t attempt, FailureKind kind,
                              std::optional<int32_t> exit_code) const {
  if (kind == FailureKind::kCancelled) return false;
  // 64-bit so that max_retries == UINT32_MAX means "practically forever", not "never".
  if (uint64_t{attempt} >= uint64_t{max_retries} + 1) return false;
  switch (condition) {
    case RetryCondition::kAlways:
      return true;
    case RetryCondition::kTransientOnly:
      return kind == FailureKind::kTransient || kind == FailureKind::kTimeout;
    case RetryCondition::kNever:
      return false;
    case RetryCondition::kOnExitCodes:
      return exit_code.has_value() &&
             std::find(exit_codes.begin(), exit_codes.end(), *exit_code) != exit_codes.end();
  }
  return false;
}

std::chrono::milliseconds RetryPolicy::DelayAfter(uint32_t attempt) const {
  const int64_t base = std::max<int64_t>(delay.count(), 0);
  const int64_t cap = std::max<int64_t>(max_delay.count(), 0);
  const uint32_t exponent = attempt > 0 ? attempt - 1 : 0;
  if (base == 0 || exponent == 0 || multiplier <= 1.0) {
    return std::chrono::milliseconds(std::min(base, cap));
  }
  // In floating point: a large attempt number gives +inf, which the cap absorbs, where an integer
  // product would overflow.
  const double grown = static_cast<double>(base) * std::pow(multiplier, exponent);
  if (!(grown < static_cast<double>(cap))) return std::chrono::milliseconds(cap);
  return std::chrono::milliseconds(static_cast<int64_t>(grown));
}

std::chrono::milliseconds RetryPolicy::JitteredDelayAfter(uint32_t attempt,
                                                          double unit_random) const {
  const std::chrono::milliseconds base = DelayAfter(attempt);
  const double fraction = std::clamp(jitter, 0.0, 1.0) * std::clamp(unit_random, 0.0, 1.0);
  if (!(fraction > 0.0)) return base;
  const double jittered = static_cast<double>(base.count()) * (1.0 - fraction);
  if (!(jittered < static_cast<double>(base.count()))) return base;
  return std::chrono::milliseconds(std::max<int64_t>(static_cast<int64_t>(jittered), 0));
}

Status RetryPolicy::Validate() const {
  if (delay.count() < 0) {
    return InvalidArgument("retry delay must not be negative (got " + FormatMillis(delay) + ")");
  }
  if (max_delay.count() < 0) {
    return InvalidArgument("retry max_delay must not be negative (got " + FormatMillis(max_delay) +
                           ")");
  }
  if (delay > max_delay) {
    return InvalidArgument("retry delay (" + FormatMillis(delay) + ") is longer than max_delay (" +
                           FormatMillis(max_delay) + ")");
  }
  if (!(multiplier >= 1.0) || !std::isfinite(multiplier)) {
    return InvalidArgument("retry multiplier must be a finite number >= 1 (got " +
                           std::to_string(multiplier) + ")");
  }
  if (!(jitter >= 0.0 && jitter <= 1.0)) {
    return InvalidArgument("retry jitter must be between 0 and 1 (got " + std::to_string(jitter) +
                           ")");
  }
  if (condition == RetryCondition::kOnExitCodes && exit_codes.empty()) {
    return InvalidArgument("retry condition 'on_exit_codes' needs at least one exit code");
  }
  if (condition != RetryCondition::kOnExitCodes && !exit_codes.empty()) {
    return InvalidArgument("retry exit codes are given but the retry condition is '" +
                           std::string(RetryConditionName(condition)) +
                           "'; they apply only to 'on_exit_codes'");
  }
  return Status::Ok();
}

}  // namespace petit
