#include "iai/core/interrupt.h"

#include <csignal>
#include <cstdlib>

namespace iai {

namespace {
volatile std::sig_atomic_t g_signal = 0;

extern "C" void on_signal(int signal) {
  // A second signal while the first is being handled (e.g. during the
  // checkpoint write): the user insists; the previous checkpoint is intact.
  if (g_signal != 0) std::_Exit(128 + signal);
  g_signal = signal;
}
}  // namespace

void install_interrupt_handler() {
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
}

bool interrupt_requested() {
  return g_signal != 0;
}

int interrupt_signal() {
  return g_signal;
}

void clear_interrupt() {
  g_signal = 0;
}

}  // namespace iai
