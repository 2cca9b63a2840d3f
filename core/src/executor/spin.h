// SpinFor: a short busy-wait before a thread that ran out of work sleeps on a condition variable.
// An in-process task is over in well under a microsecond, while a futex sleep and wake-up costs
// several; a few microseconds of looking cost nothing next to a process spawn (hundreds of
// microseconds). What is spun on is only a hint: the condition variable still decides.
#ifndef PETIT_CORE_SRC_EXECUTOR_SPIN_H_
#define PETIT_CORE_SRC_EXECUTOR_SPIN_H_

#include <chrono>

namespace petit::internal {

inline constexpr auto kSpinBeforeSleep = std::chrono::microseconds(20);

// Spins until `ready()` or kSpinBeforeSleep has passed; returns ready().
template <typename Ready>
bool SpinFor(Ready&& ready) {
  auto give_up = std::chrono::steady_clock::now() + kSpinBeforeSleep;
  for (int i = 0;; ++i) {
    if (ready()) return true;
    if ((i & 63) == 63 && std::chrono::steady_clock::now() >= give_up) return ready();
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  }
}

}  // namespace petit::internal

#endif  // PETIT_CORE_SRC_EXECUTOR_SPIN_H_
