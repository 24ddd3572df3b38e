// Writes the seed corpus of every harness into fuzz/corpus/<reader>/: tiny
// valid files of each format (and a few just-invalid ones), so the fuzzers
// start from inputs that pass the readers' first checks. Run once by hand
// (scripts/fuzz.sh --make-corpus); the output is committed.
#include "iai/core/rng.h"
#include "iai/data/idx.h"
#include "iai/train/checkpoint/checkpoint.h"
#include "iai/train/checkpoint/checkpoint_file.h"
#include "iai/train/config/factory.h"
#include "iai/train/optim/optimizers.h"

#include <matio.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

std::string root;

void write(const std::string& reader, const std::string& name,
           const std::string& bytes) {
  fs::create_directories(root + "/" + reader);
  std::ofstream(root + "/" + reader + "/" + name, std::ios::binary) << bytes;
}

std::string read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void idx_seeds() {
  const std::string tmp = root + "/tmp.idx";
  iai::data::write_idx(
      tmp, torch::arange(2 * 3 * 4, torch::kByte).view({2, 3, 4}), false);
  write("idx", "plain-2x3x4", read(tmp));
  iai::data::write_idx(tmp, torch::arange(5, torch::kByte), true);
  write("idx", "gzip-5", read(tmp));
  fs::remove(tmp);
}

void cifar10_seeds() {
  std::string record(3073, '\0');
  for (size_t i = 1; i < record.size(); ++i) record[i] = char(i * 7);
  record[0] = 3;
  write("cifar10", "one-record", record);
  std::string two = record + record;
  two[3073] = 9;
  write("cifar10", "two-records", two);
}

void write_mat(const std::string& name, bool compress, bool omniglot) {
  const std::string path = root + "/mat/" + name;
  fs::create_directories(root + "/mat");
  mat_t* file = Mat_CreateVer(path.c_str(), nullptr, MAT_FT_MAT5);
  auto put = [&](const char* var_name, matio_classes c, matio_types t,
                 std::vector<size_t> dims, void* data) {
    matvar_t* v =
        Mat_VarCreate(var_name, c, t, int(dims.size()), dims.data(), data, 0);
    Mat_VarWrite(file, v,
                 compress ? MAT_COMPRESSION_ZLIB : MAT_COMPRESSION_NONE);
    Mat_VarFree(v);
  };
  if (omniglot) {
    std::vector<double> data(784 * 2), target(2 * 2, 0.0);
    for (size_t i = 0; i < data.size(); ++i) data[i] = double(i % 256) / 255.0;
    target[0] = 1;
    target[3] = 1;
    put("data", MAT_C_DOUBLE, MAT_T_DOUBLE, {784, 2}, data.data());
    put("testdata", MAT_C_DOUBLE, MAT_T_DOUBLE, {784, 1}, data.data());
    put("target", MAT_C_DOUBLE, MAT_T_DOUBLE, {2, 2}, target.data());
    put("testtarget", MAT_C_DOUBLE, MAT_T_DOUBLE, {2, 1}, target.data());
  } else {
    std::vector<uint8_t> x(32 * 32 * 3 * 2);
    for (size_t i = 0; i < x.size(); ++i) x[i] = uint8_t(i * 13);
    std::vector<double> y = {10, 3};
    put("X", MAT_C_UINT8, MAT_T_UINT8, {32, 32, 3, 2}, x.data());
    put("y", MAT_C_DOUBLE, MAT_T_DOUBLE, {2, 1}, y.data());
  }
  Mat_Close(file);
}

void text_seeds() {
  write("bag_of_words", "three-docs",
        std::string(1, char(9)) +  // vocabulary of 10 words
            "1 1:2 3:1 10:4\n0 2:1\n\n7 5:0 6:3\r\n");
  write("bag_of_words", "empty-doc",
        std::string(1, char(2)) + "4\n2 1:1 2:1\n");
  write("vocabulary", "words", "the 120\nof 80\r\nand\n\n");
  write("vocabulary", "one", "word");
}

void config_seeds() {
  write("config", "train",
        "# a training config\nlatent = 16\nbatch-size = 64\nlr = 2e-4\n"
        "inference = \"iterative\"\nencode-data = true\n"
        "upper-latent = [32, 16]\n");
  write("config", "sections",
        "[train]\nepochs = 3\n'quoted key' = \"x\"\nlist = [1, 2, 3]\n");
  write("config", "empty", "");
}

void checkpoint_seeds() {
  iai::train::TrainConfig c;
  c.latent = 2;
  c.encoder_hidden = 4;
  c.decoder_hidden = 4;
  c.encoder_layers = 1;
  c.decoder_layers = 1;
  c.out = "run";
  c = iai::train::resolve(c);
  iai::seed_everything(1);
  const int64_t d = 16;
  auto model = iai::train::build_model(c, d);
  auto procedure = iai::train::build_procedure(c, d, model);
  iai::train::Optimizers optimizers(model->parameters(),
                                    procedure->parameters(), 1e-3);
  iai::train::CheckpointHeader h;
  h.config = c;
  h.epoch = 1;
  h.data_dim = d;
  h.last_metrics = "{\"epoch\":1}";
  const std::string dir = root + "/tmp-run";
  fs::create_directories(dir);
  const std::string path = dir + "/checkpoint.pt";
  iai::train::save_checkpoint(path, h, *model, *procedure, optimizers.model,
                              optimizers.procedure);
  const std::string file = read(path);
  write("checkpoint", "file-epoch-end", std::string(1, '\0') + file);
  write("checkpoint", "payload-epoch-end",
        std::string(1, '\1') + iai::train::read_checked_file(path));
  // Mid-epoch: the position and sums too.
  h.step = 3;
  h.progress.epoch_rng = iai::rng_state();
  h.progress.sums.elbo = -90;
  h.progress.examples = 24;
  iai::train::save_checkpoint(path, h, *model, *procedure, optimizers.model,
                              optimizers.procedure);
  write("checkpoint", "payload-mid-epoch",
        std::string(1, '\1') + iai::train::read_checked_file(path));
  fs::remove_all(dir);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: fuzz_make_corpus FOLDER (fuzz/corpus)\n";
    return 2;
  }
  root = argv[1];
  fs::create_directories(root);
  idx_seeds();
  cifar10_seeds();
  write_mat("svhn.mat", false, false);
  write_mat("svhn-zlib.mat", true, false);
  write_mat("chardata.mat", false, true);
  write_mat("chardata-zlib.mat", true, true);
  text_seeds();
  config_seeds();
  checkpoint_seeds();
  return 0;
}
