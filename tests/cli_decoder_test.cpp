// `iai train --decoder FILE.pt` from the command line: a TorchScript
// convolutional decoder trains with every inference model (standard,
// iterative with gradient and error encoding, hierarchical with the module
// as level 1's decoder); its run resumes exactly and evaluates from the
// checkpoint alone; each bad decoder is exit status 1 and one line.

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "iai/train/checkpoint/checkpoint.h"
#include "run_support.h"
#include "scripted_decoders.h"
#include "test_support.h"

namespace {

namespace fs = std::filesystem;
using iai::testing::contains;
using iai::testing::run_cli;

/// metrics.jsonl without its timings.
std::vector<nlohmann::json> metrics_of(const std::string& run) {
  std::vector<nlohmann::json> out;
  for (const auto& line : iai::testing::lines_of(run + "/metrics.jsonl")) {
    auto j = nlohmann::json::parse(line);
    for (auto it = j.begin(); it != j.end();) {
      it = it.key().find("second") != std::string::npos ? j.erase(it)
                                                        : std::next(it);
    }
    out.push_back(j);
  }
  return out;
}

class CliDecoderTest : public iai::testing::TinyRunTest {
 protected:
  CliDecoderTest() : TinyRunTest("decoder") {}
  std::vector<std::string> with(std::vector<std::string> args,
                                const std::vector<std::string>& more) {
    args.insert(args.end() - 2, more.begin(), more.end());  // before --out
    return args;
  }
};

TEST_F(CliDecoderTest, EveryInferenceModelTrainsWithAScriptedDecoder) {
  const std::string decoder = root_ + "/conv.pt";
  iai::testing::write_conv_decoder(decoder, 4);
  const std::vector<std::pair<std::string, std::vector<std::string>>> cases = {
      {"standard", {"--inference", "standard"}},
      {"iterative-gradient",
       {"--inference", "iterative", "--encoding", "gradient", "--iterations",
        "2"}},
      {"iterative-error",
       {"--inference", "iterative", "--encoding", "error", "--iterations",
        "2"}},
      {"hierarchical",
       {"--model", "hierarchical", "--inference", "iterative", "--iterations",
        "2", "--upper-latent", "2", "--upper-hidden", "8"}},
  };
  for (const auto& [name, flags] : cases) {
    auto args = with(train_args(root_ + "/" + name, 2), flags);
    args.insert(args.end() - 2, {"--decoder", decoder, "--samples", "2"});
    const auto r = run_cli(args);
    ASSERT_EQ(r.code, 0) << name << ": " << r.err;
    const auto metrics = metrics_of(root_ + "/" + name);
    ASSERT_EQ(metrics.size(), 2u) << name;
    // The decoder's weights are the model's: they were trained.
    auto header = iai::train::read_checkpoint_header(root_ + "/" + name +
                                                     "/checkpoint.pt");
    EXPECT_EQ(header.config.decoder, decoder);
    EXPECT_EQ(header.config.decoder_script, iai::testing::bytes_of(decoder));
    auto model = iai::train::build_model(header.config, header.data_dim);
    auto proc =
        iai::train::build_procedure(header.config, header.data_dim, model);
    iai::train::load_checkpoint(header.config.out + "/checkpoint.pt", *model,
                                *proc, nullptr, nullptr, false);
    const auto trained = model->named_parameters()["decoder.w2"];
    auto fresh = iai::train::build_model(header.config, header.data_dim);
    EXPECT_GT((trained - fresh->named_parameters()["decoder.w2"])
                  .abs()
                  .max()
                  .item<double>(),
              1e-4)
        << name;
    EXPECT_EQ(model->named_parameters().find("body.layers.0.linear.weight"),
              nullptr)
        << name;
  }
}

TEST_F(CliDecoderTest, ARunResumesExactlyAndEvaluatesFromItsCheckpointAlone) {
  const std::string decoder = root_ + "/conv.pt";
  iai::testing::write_conv_decoder(decoder, 4);
  const std::vector<std::string> flags = {"--decoder", decoder, "--iterations",
                                          "2"};
  auto straight = run_cli(with(train_args(root_ + "/straight", 2), flags));
  ASSERT_EQ(straight.code, 0) << straight.err;
  auto first = run_cli(with(train_args(root_ + "/cut", 1), flags));
  ASSERT_EQ(first.code, 0) << first.err;
  fs::remove(decoder);  // from here on, only the checkpoint holds it
  auto resumed =
      run_cli({"train", "--resume", root_ + "/cut", "--epochs", "2"});
  ASSERT_EQ(resumed.code, 0) << resumed.err;
  EXPECT_EQ(metrics_of(root_ + "/cut"), metrics_of(root_ + "/straight"));
  auto eval = run_cli({"eval", "--checkpoint", root_ + "/cut", "--iw-samples",
                       "20", "--threads", "1", "--out", root_ + "/eval"});
  ASSERT_EQ(eval.code, 0) << eval.err;
  std::ifstream in(root_ + "/eval/eval.json");
  const auto j = nlohmann::json::parse(in);
  EXPECT_GE(j["log_px"].get<double>(), j["elbo"].get<double>() - 1.0);
  auto infer =
      run_cli({"infer", "--checkpoint", root_ + "/cut", "--max-examples", "8",
               "--threads", "1", "--out", root_ + "/infer"});
  EXPECT_EQ(infer.code, 0) << infer.err;
}

TEST_F(CliDecoderTest, EachBadDecoderIsExitOneAndOneLine) {
  std::ofstream(root_ + "/text.pt") << "not TorchScript";
  iai::testing::write_conv_decoder(root_ + "/wide.pt",
                                   5);  // for Z = 5, given Z = 4
  const std::vector<std::pair<std::string, std::string>> cases = {
      {root_ + "/missing.pt",
       "cannot read the decoder '" + root_ + "/missing.pt'"},
      {root_ + "/text.pt", "is not a TorchScript module"},
      {root_ + "/wide.pt",
       "iai: error: the decoder '" + root_ + "/wide.pt' failed on z (2, 4)"},
  };
  for (const auto& [file, expected] : cases) {
    const auto r =
        run_cli(with(train_args(root_ + "/never", 1), {"--decoder", file}));
    EXPECT_EQ(r.code, 1) << file;
    EXPECT_TRUE(contains(r.err, expected)) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_FALSE(fs::exists(root_ + "/never/checkpoint.pt"));
  }
}

}  // namespace
