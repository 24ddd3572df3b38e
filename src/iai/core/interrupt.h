#pragma once
// Ctrl-C during a long run: the first SIGINT/SIGTERM asks the run to stop at
// the next safe point (after the current step), so no saved work is lost; a
// second one ends the process at once.

namespace iai {

/// Installs the handler (idempotent).
void install_interrupt_handler();

/// Whether a stop was requested.
bool interrupt_requested();

/// Clears the request (tests, or a run that handled it).
void clear_interrupt();

}  // namespace iai
