#include "petit/core/job.h"

#include "enum_names.h"

namespace petit {
namespace {

constexpr internal::EnumNames<OverlapPolicy, 3> kOverlapNames{{
    {OverlapPolicy::kSkip, "skip"},
    {OverlapPolicy::kQueue, "queue"},
    {OverlapPolicy::kCancelPrevious, "cancel_previous"},
}};

constexpr internal::EnumNames<CatchUpPolicy, 3> kCatchUpNames{{
    {CatchUpPolicy::kNone, "none"},
    {CatchUpPolicy::kLatest, "latest"},
    {CatchUpPolicy::kAll, "all"},
}};

constexpr internal::EnumNames<JobDependency::Condition, 3> kConditionNames{{
    {JobDependency::Condition::kLastSuccess, "last_success"},
    {JobDependency::Condition::kLastComplete, "last_complete"},
    {JobDependency::Condition::kWithinWindow, "within_window"},
}};

}  // namespace

std::string_view OverlapPolicyName(OverlapPolicy policy) {
  return internal::NameOf(kOverlapNames, policy);
}

std::string_view CatchUpPolicyName(CatchUpPolicy policy) {
  return internal::NameOf(kCatchUpNames, policy);
}

std::string_view JobDependencyConditionName(JobDependency::Condition condition) {
  return internal::NameOf(kConditionNames, condition);
}

std::span<const std::pair<OverlapPolicy, std::string_view>> OverlapPolicyNames() {
  return kOverlapNames;
}

std::span<const std::pair<CatchUpPolicy, std::string_view>> CatchUpPolicyNames() {
  return kCatchUpNames;
}

std::span<const std::pair<JobDependency::Condition, std::string_view>>
JobDependencyConditionNames() {
  return kConditionNames;
}

}  // namespace petit
