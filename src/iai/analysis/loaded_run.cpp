#include "iai/analysis/loaded_run.h"

#include "iai/train/factory.h"

namespace iai::analysis {

LoadedRun load_run(const std::string& run_or_file) {
  LoadedRun run;
  run.path = train::checkpoint_path(run_or_file);
  run.header = train::read_checkpoint_header(run.path);
  run.model = train::build_model(run.header.config, run.header.data_dim);
  run.procedure =
      train::build_procedure(run.header.config, run.header.data_dim);
  train::load_checkpoint(run.path, *run.model, *run.procedure, nullptr,
                         nullptr, /*restore_rng=*/false);
  run.model->eval();
  run.procedure->eval();
  return run;
}

}  // namespace iai::analysis
