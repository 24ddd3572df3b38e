// `iai infer`: runs a checkpoint's inference procedure on a data file and
// writes each example's ELBO per iteration and final lambda to CSV.

#include "cli.h"

#include "iai/analysis/run_eval.h"
#include "iai/core/output_folder.h"

#include <CLI/CLI.hpp>

#include <filesystem>
#include <memory>

namespace iai::cli {

void add_infer_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "infer",
      "Run inference with a trained model on an IDX image file (default: its "
      "test split); write per-example ELBO per iteration, final mu and log "
      "sigma^2 to CSV.");
  auto c = std::make_shared<analysis::InferConfig>();
  add_config_option(*cmd);
  cmd->add_option("--checkpoint", c->checkpoint,
                  "Run folder or checkpoint file")
      ->required();
  cmd->add_option("--images", c->images,
                  "IDX image file (N,H,W), plain or .gz (default: the "
                  "model's test split)");
  cmd->add_option("--out", c->out, "CSV file to write")->capture_default_str();
  add_inference_flags(*cmd, c->iterations, c->samples, c->max_examples,
                      c->runtime);
  add_cuda_graph_flag(*cmd, c->cuda_graph);
  cmd->callback([c] {
    const auto folder = std::filesystem::path(c->out).parent_path();
    check_output_folder(folder.empty() ? "." : folder.string(), "--out");
    analysis::run_infer(*c);
  });
}

}  // namespace iai::cli
