#include "iai/core/runtime_scope.h"

#include "iai/core/device.h"
#include "iai/core/threads.h"

namespace iai {

RuntimeScope::RuntimeScope(const RuntimeOptions& options)
    : device_(resolve_device(options.device)),
      precision_(options.precision, device_),
      threads_(set_threads(options.threads)) {}

}  // namespace iai
