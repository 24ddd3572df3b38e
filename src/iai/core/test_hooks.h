#pragma once
// Test hooks: behaviour that only a test asks for, through the environment,
// so the real binary can be tested as users run it.

namespace iai {

/// IAI_TEST_SLOW_WRITE_MS=N (test hook, never set by users): sleeps N ms.
/// Called half-way through writing a checkpoint's temporary file, again
/// before it is renamed into place, and half-way through a metrics line, so
/// a test that kills the process at random moments often hits a write.
/// Does nothing when the variable is unset.
void pause_in_write_for_tests();

/// IAI_TEST_HOST_NOISE=1 (test hook): the reparameterisation noise is drawn
/// from the host's generator and copied to the device, so a run on a GPU
/// sees the very samples the same run on the CPU sees (the CPU-vs-GPU
/// agreement check of scripts/gpu-check.sh). False when unset.
bool host_noise_for_tests();

}  // namespace iai
