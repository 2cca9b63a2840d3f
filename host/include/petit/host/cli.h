// The `petit` command line: parses arguments, runs one command, returns the process exit code
// (petit/host/exit_codes.h). A thin layer over the host runtime (host/src/runtime/).
//
// Threads: call from the main thread before any other thread exists: `petit run` and `petit
// trigger` block SIGINT/SIGTERM in every thread they start and take them on a sigwait thread.
#ifndef PETIT_HOST_CLI_H_
#define PETIT_HOST_CLI_H_

namespace petit::host {

int RunCli(int argc, char** argv);

}  // namespace petit::host

#endif  // PETIT_HOST_CLI_H_
