#pragma once
// Ctrl-C, or the SIGTERM a cluster scheduler sends before it kills a job:
// the first SIGINT/SIGTERM asks the run to stop at the next safe point (after
// the current step, where the trainer writes a checkpoint), so no finished
// work is lost; a second one ends the process at once (exit 128 + signal),
// which leaves the last complete checkpoint in place (checkpoints are written
// to a temporary file and renamed).

namespace iai {

/// Installs the handler (idempotent).
void install_interrupt_handler();

/// Whether a stop was requested.
bool interrupt_requested();

/// The signal that asked for the stop (SIGINT or SIGTERM; 0 if none): the
/// process should exit with 128 + it, as a shell reports a killed job.
int interrupt_signal();

/// Clears the request (tests, or a run that handled it).
void clear_interrupt();

}  // namespace iai
