#include "runtime/signal_canceller.h"

#include <pthread.h>

#include <utility>

namespace petit::host {
namespace {

// Sent by the destructor to the watcher only; real-time, so it cannot be a user's signal.
int StopSignal() { return SIGRTMIN + 1; }

sigset_t WatchedSignals(bool hangup) {
  sigset_t set;
  sigemptyset(&set);
  if (hangup) sigaddset(&set, SIGHUP);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, StopSignal());
  return set;
}

}  // namespace

SignalCanceller::SignalCanceller(RunCanceller& canceller, std::function<void(int, int)> on_signal)
    : canceller_(canceller), on_signal_(std::move(on_signal)) {
  sigset_t set = WatchedSignals(false);
  pthread_sigmask(SIG_BLOCK, &set, &previous_mask_);
  watcher_ = std::thread([this] { Watch(); });
}

SignalCanceller::SignalCanceller(RunCanceller& first, RunCanceller& second,
                                 std::function<void(int, int)> on_signal,
                                 std::function<void()> on_hangup)
    : canceller_(first),
      second_(&second),
      on_signal_(std::move(on_signal)),
      on_hangup_(std::move(on_hangup)) {
  sigset_t set = WatchedSignals(static_cast<bool>(on_hangup_));
  pthread_sigmask(SIG_BLOCK, &set, &previous_mask_);
  watcher_ = std::thread([this] { Watch(); });
}

SignalCanceller::~SignalCanceller() {
  pthread_kill(watcher_.native_handle(), StopSignal());
  watcher_.join();
  pthread_sigmask(SIG_SETMASK, &previous_mask_, nullptr);
}

void SignalCanceller::Watch() {
  const sigset_t set = WatchedSignals(static_cast<bool>(on_hangup_));
  for (;;) {
    int signal_number = 0;
    if (sigwait(&set, &signal_number) != 0) continue;
    if (signal_number == StopSignal()) return;
    if (signal_number == SIGHUP) {
      on_hangup_();
      continue;
    }
    ++count_;
    RunCanceller* stage = count_ == 1 ? &canceller_ : count_ == 2 ? second_ : nullptr;
    if (stage != nullptr) {
      if (on_signal_) on_signal_(signal_number, count_);
      stage->Cancel();
      continue;
    }
    // A second request: the default action (termination) at once.
    std::signal(signal_number, SIG_DFL);
    sigset_t only;
    sigemptyset(&only);
    sigaddset(&only, signal_number);
    pthread_sigmask(SIG_UNBLOCK, &only, nullptr);
    raise(signal_number);
  }
}

ScopedTerminationSignalsBlocked::ScopedTerminationSignalsBlocked() {
  sigset_t set = WatchedSignals(/*hangup=*/true);
  pthread_sigmask(SIG_BLOCK, &set, &previous_mask_);
}

ScopedTerminationSignalsBlocked::~ScopedTerminationSignalsBlocked() {
  pthread_sigmask(SIG_SETMASK, &previous_mask_, nullptr);
}

}  // namespace petit::host
