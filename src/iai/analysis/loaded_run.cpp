#include "iai/analysis/loaded_run.h"

#include "iai/core/device.h"
#include "iai/core/error.h"
#include "iai/train/config/factory.h"
#include "iai/train/config/training_data.h"

#include <cstdio>

namespace iai::analysis {

LoadedRun load_run(const std::string& run_or_file,
                   const torch::Device& device) {
  LoadedRun run;
  // An unreadable newest checkpoint (a flipped byte, a cut write): the
  // previous one, as --resume does, saying so.
  std::string fallback;
  run.path = train::resumable_checkpoint(run_or_file, &fallback, "reading");
  if (!fallback.empty()) {
    std::fprintf(stderr, "iai: warning: %s\n", fallback.c_str());
  }
  run.header = train::read_checkpoint_header(run.path);
  run.model = train::build_model(run.header.config, run.header.data_dim);
  run.procedure =
      train::build_procedure(run.header.config, run.header.data_dim, run.model);
  // On the device before loading: the checkpoint's tensors go straight there.
  run.model->to(device);
  run.procedure->to(device);
  train::load_checkpoint(run.path, *run.model, *run.procedure, nullptr, nullptr,
                         /*restore_rng=*/false);
  run.model->eval();
  run.procedure->eval();
  return run;
}

data::ExampleSets load_run_data(const LoadedRun& run,
                                const std::string& data_dir, int64_t max_test) {
  auto config = run.header.config;
  if (!data_dir.empty()) config.data_dir = data_dir;
  config.max_test = max_test;
  auto data = train::load_data(config);
  IAI_CHECK(data.test->dim() == run.header.data_dim, "test data in '",
            config.data_dir, "' have ", data.test->dim(),
            " dimensions; the model expects ", run.header.data_dim);
  return data;
}

}  // namespace iai::analysis
