// SignalCanceller: turns SIGINT and SIGTERM into a graceful cancel of the runs of this process.
//
// While one exists, SIGINT and SIGTERM are blocked in the thread that made it and in every thread
// started after it (create it before any other thread), and a watcher thread takes them with
// sigwait(): the first one calls RunCanceller::Cancel() (the runs stop their attempts and record
// them as cancelled), a second one ends the process at once by the signal's default action, as an
// impatient user at a terminal expects. Nothing runs in an async signal handler.
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
  // `on_signal`, if given, runs on the watcher thread before the cancel, with the signal number
  // (to print "cancelling..." for instance).
  explicit SignalCanceller(RunCanceller& canceller, std::function<void(int)> on_signal = {});
  ~SignalCanceller();

  SignalCanceller(const SignalCanceller&) = delete;
  SignalCanceller& operator=(const SignalCanceller&) = delete;

 private:
  void Watch();

  RunCanceller& canceller_;
  std::function<void(int)> on_signal_;
  sigset_t previous_mask_;
  std::thread watcher_;
};

}  // namespace petit::host

#endif  // PETIT_HOST_RUNTIME_SIGNAL_CANCELLER_H_
