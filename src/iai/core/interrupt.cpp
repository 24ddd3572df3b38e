#include "iai/core/interrupt.h"

#include <csignal>
#include <cstdlib>

namespace iai {

namespace {
volatile std::sig_atomic_t g_requested = 0;

extern "C" void on_signal(int signal) {
  if (g_requested) std::_Exit(128 + signal);
  g_requested = 1;
}
}  // namespace

void install_interrupt_handler() {
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
}

bool interrupt_requested() { return g_requested != 0; }

void clear_interrupt() { g_requested = 0; }

}  // namespace iai
