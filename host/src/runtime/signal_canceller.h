// SignalCanceller: turns SIGINT and SIGTERM into a graceful cancel of the runs of this process.
//
// While one exists, SIGINT and SIGTERM are blocked in the thread that made it and in every thread
// started after it (create it before any other thread), and a watcher thread takes them with
// sigwait(): the first one calls RunCanceller::Cancel() (the runs stop their attempts and record
// them as cancelled), a second one ends the process at once by the signal's default action, as an
// impatient user at a terminal expects (or, with two cancellers, cancels the second, and a third
// ends the process). Nothing runs in an async signal handler. With an `on_hangup`, SIGHUP is taken
// the same way and calls it (a reload); it never counts as a stop signal.
//
// Ownership: borrows the canceller, which must outlive this object. Destruction stops the watcher
// and restores the signal mask of the creating thread. Not copyable; use from one thread.
#ifndef PETIT_HOST_RUNTIME_SIGNAL_CANCELLER_H_
#define PETIT_HOST_RUNTIME_SIGNAL_CANCELLER_H_

#include <csignal>
#include <functional>
#include <thread>

#include "petit/core/execute_run.h"

namespace petit::host {

class SignalCanceller {
 public:
  // `on_signal`, if given, runs on the watcher thread before each cancel, with the signal number
  // and how many signals came so far, 1 first (to print "cancelling..." for instance).
  explicit SignalCanceller(RunCanceller& canceller,
                           std::function<void(int signal, int count)> on_signal = {});
  // Two stages, as a daemon drains: the first signal cancels `first` (stop firing, let runs
  // finish), the second cancels `second` (cancel the runs now, recording them), and a third ends
  // the process at once. Both must outlive this object. `on_hangup`, if given, runs on the
  // watcher thread for each SIGHUP; it should only hand the work to another thread.
  SignalCanceller(RunCanceller& first, RunCanceller& second,
                  std::function<void(int signal, int count)> on_signal = {},
                  std::function<void()> on_hangup = {});
  ~SignalCanceller();

  SignalCanceller(const SignalCanceller&) = delete;
  SignalCanceller& operator=(const SignalCanceller&) = delete;

 private:
  void Watch();

  RunCanceller& canceller_;
  RunCanceller* second_ = nullptr;  // nullptr: the second signal ends the process
  std::function<void(int, int)> on_signal_;
  std::function<void()> on_hangup_;  // empty: SIGHUP is not watched
  int count_ = 0;                    // signals taken so far; used by the watcher thread only
  sigset_t previous_mask_;
  std::thread watcher_;
};

// Blocks SIGINT, SIGTERM and SIGHUP in the calling thread from construction to destruction,
// which restores its mask. A thread started meanwhile keeps them blocked for its whole life: a
// plugin's, started from its init hook before any SignalCanceller exists, would otherwise be a
// thread that takes them, and their default action would end petit at once instead of draining
// (or reloading, for SIGHUP). Not copyable; use from one thread.
class ScopedTerminationSignalsBlocked {
 public:
  ScopedTerminationSignalsBlocked();
  ~ScopedTerminationSignalsBlocked();

  ScopedTerminationSignalsBlocked(const ScopedTerminationSignalsBlocked&) = delete;
  ScopedTerminationSignalsBlocked& operator=(const ScopedTerminationSignalsBlocked&) = delete;

 private:
  sigset_t previous_mask_;
};

}  // namespace petit::host

#endif  // PETIT_HOST_RUNTIME_SIGNAL_CANCELLER_H_
