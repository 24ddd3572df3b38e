#include "cli.h"

#include "iai/core/error.h"
#include "iai/core/interrupt.h"

#include <CLI/CLI.hpp>
#include <c10/util/Exception.h>

#include <cstdio>

namespace iai::cli {

int run(const std::vector<std::string>& args) {
  CLI::App app{
      "iai: iterative amortized inference (Marino, Yue & Mandt, ICML 2018).\n"
      "Train standard and iterative inference models, evaluate them, run "
      "inference.",
      "iai"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "iai 0.1.0");
  add_train_command(app);
  add_eval_command(app);
  add_infer_command(app);
  add_table_command(app);

  std::vector<const char*> argv = {"iai"};
  for (const auto& a : args) argv.push_back(a.c_str());
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const Error& e) {
    std::fprintf(stderr, "iai: error: %s\n", e.what());
    if (interrupt_requested()) {
      clear_interrupt();
      return 130;
    }
    return 1;
  } catch (const c10::Error& e) {
    std::fprintf(stderr, "iai: error inside LibTorch: %s\n",
                 e.what_without_backtrace());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "iai: error: %s\n", e.what());
    return 1;
  }
  return 0;
}

}  // namespace iai::cli
