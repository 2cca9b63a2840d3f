#include "petit/host/cli.h"

int main(int argc, char** argv) { return petit::host::RunCli(argc, argv); }
