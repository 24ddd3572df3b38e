// Thin entry point: everything lives in the library and iai_cli.
#include "cli.h"

int main(int argc, char** argv) {
  return iai::cli::run(std::vector<std::string>(argv + 1, argv + argc));
}
