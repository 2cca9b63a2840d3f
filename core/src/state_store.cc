#include "petit/core/state_store.h"

#include <string>

namespace petit {

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

}  // namespace petit
