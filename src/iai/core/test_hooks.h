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

}  // namespace iai
