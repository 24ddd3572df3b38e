// Tests of the bag-of-words reader (label id:count ..., ids 1-based), the
// vocabulary reader, the folder loader and per-batch densification, on small
// hand-written files.

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "iai/core/error.h"
#include "iai/data/bag_of_words.h"
#include "iai/data/example_source.h"
#include "test_support.h"

namespace {

namespace fs = std::filesystem;
using iai::data::densify;
using iai::data::document_lengths;
using iai::data::load_bag_of_words_folder;
using iai::data::read_bag_of_words;
using iai::data::read_vocabulary;
using iai::testing::contains;
using iai::testing::error_of;
using iai::testing::scratch_dir;

std::string write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  EXPECT_TRUE(out.good()) << path;
  return path;
}

// The error of reading `text` as a bag-of-words file with V = 5.
std::string error_reading(const std::string& text) {
  const std::string path = write_text(scratch_dir() + "/bad.feat", text);
  const std::string error =
      error_of([&] { read_bag_of_words(path, /*vocab_size=*/5); });
  EXPECT_TRUE(contains(error, path));
  return error;
}

TEST(BagOfWords, ReadsSparseRowsWithOneBasedIds) {
  const std::string path = write_text(scratch_dir() + "/train.feat",
                                      "3 1:2 4:1\n"
                                      "-1\t5:7  2:3\r\n"
                                      "\n"
                                      "+12 3:1\n");
  const auto split = read_bag_of_words(path, 5);
  EXPECT_EQ(split.size(), 3);
  EXPECT_EQ(split.vocab_size, 5);
  EXPECT_EQ(split.dropped_empty, 0);
  EXPECT_TRUE(
      torch::equal(split.offsets, torch::tensor({0, 2, 4, 5}, torch::kLong)));
  // File ids minus one, in file order.
  EXPECT_TRUE(
      torch::equal(split.ids, torch::tensor({0, 3, 4, 1, 2}, torch::kLong)));
  EXPECT_TRUE(
      torch::equal(split.counts, torch::tensor({2.f, 1.f, 7.f, 3.f, 1.f})));
  EXPECT_TRUE(
      torch::equal(split.labels, torch::tensor({3, -1, 12}, torch::kLong)));
  EXPECT_TRUE(torch::equal(document_lengths(split),
                           torch::tensor({3.0, 10.0, 1.0}, torch::kDouble)));
}

TEST(BagOfWords, DensifiesChosenDocumentsByHand) {
  const std::string path = write_text(scratch_dir() + "/train.feat",
                                      "0 1:2 4:1\n1 5:7 2:3\n2 3:1\n");
  const auto split = read_bag_of_words(path, 5);
  const auto dense = densify(split, torch::tensor({2, 0, 2}, torch::kLong));
  EXPECT_EQ(dense.scalar_type(), torch::kFloat);
  const auto expected = torch::tensor({{0.f, 0.f, 1.f, 0.f, 0.f},
                                       {2.f, 0.f, 0.f, 1.f, 0.f},
                                       {0.f, 0.f, 1.f, 0.f, 0.f}});
  EXPECT_TRUE(torch::equal(dense, expected)) << dense;

  // Batch 1 of size 2 over order (1, 2, 0) is document 0 alone.
  const auto order = torch::tensor({1, 2, 0}, torch::kLong);
  const auto source = iai::data::count_examples(split);
  EXPECT_EQ(source->size(), 3);
  EXPECT_EQ(source->dim(), 5);
  const auto first = source->batch(order, 0, 2);
  EXPECT_TRUE(torch::equal(first[0], torch::tensor({0.f, 3.f, 0.f, 0.f, 7.f})));
  const auto last = source->batch(order, 1, 2);
  EXPECT_EQ(last.sizes(), (std::vector<int64_t>{1, 5}));
  EXPECT_TRUE(torch::equal(last[0], expected[1]));

  const std::string error = error_of([&] {
    densify(split, torch::tensor({0, 3}, torch::kLong));
  });
  EXPECT_TRUE(contains(error, "document index 3 is out of range"));
  EXPECT_TRUE(contains(error, "holds 3 documents"));
}

TEST(BagOfWords, EmptyDocumentsAreSkippedAndCounted) {
  const std::string path =
      write_text(scratch_dir() + "/test.feat", "1 2:1\n4\n5 3:0\n6 1:1 3:0\n");
  const auto split = read_bag_of_words(path, 3);
  EXPECT_EQ(split.size(), 2);
  EXPECT_EQ(split.dropped_empty, 2);
  EXPECT_TRUE(torch::equal(split.labels, torch::tensor({1, 6}, torch::kLong)));
  EXPECT_TRUE(torch::equal(split.ids, torch::tensor({1, 0}, torch::kLong)));

  const std::string only_empty = error_reading("1\n2 4:0\n");
  EXPECT_TRUE(contains(only_empty, "holds no documents"));
  EXPECT_TRUE(contains(only_empty, "2 empty ones"));
  EXPECT_TRUE(contains(error_reading(""), "holds no documents"));
}

TEST(BagOfWords, IdsOutOfRangeAreReported) {
  const std::string high = error_reading("1 2:1\n2 1:1 6:2\n");
  EXPECT_TRUE(contains(high, "line 2"));
  EXPECT_TRUE(contains(high, "word id 6 in '6:2' is out of range"));
  EXPECT_TRUE(contains(high, "ids run 1..5"));
  const std::string zero = error_reading("1 0:1\n");
  EXPECT_TRUE(contains(zero, "line 1"));
  EXPECT_TRUE(contains(zero, "word id 0"));
  EXPECT_TRUE(contains(zero, "1-based"));
  EXPECT_TRUE(contains(error_reading("1 -3:1\n"), "word id -3"));
}

TEST(BagOfWords, MalformedTokensAreReported) {
  const std::string no_colon = error_reading("1 2:1 3\n");
  EXPECT_TRUE(contains(no_colon, "line 1: malformed token '3'"));
  EXPECT_TRUE(contains(no_colon, "expected id:count"));
  EXPECT_TRUE(contains(error_reading("1 2:1\n1 a:1\n"),
                       "line 2: malformed token 'a:1'; the id 'a'"));
  EXPECT_TRUE(contains(error_reading("1 2:1.5\n"),
                       "the count '1.5' is not a whole number"));
  EXPECT_TRUE(contains(error_reading("1 2:\n"), "the count ''"));
  EXPECT_TRUE(contains(error_reading("1 2:1:1\n"), "the count '1:1'"));
  const std::string no_label = error_reading("2:1 3:1\n");
  EXPECT_TRUE(contains(no_label, "expected a label"));
  EXPECT_TRUE(contains(error_reading("x 2:1\n"),
                       "the label 'x' is not a whole number"));
  EXPECT_TRUE(contains(error_reading("1 2:1 2:3\n"),
                       "word id 2 appears more than once"));
}

TEST(BagOfWords, NegativeCountsAreReported) {
  const std::string error = error_reading("1 2:1\n\n3 4:-2\n");
  EXPECT_TRUE(contains(error, "line 3: negative count -2 in '4:-2'"));
}

TEST(BagOfWords, MissingFileIsReported) {
  const std::string dir = scratch_dir();
  const std::string error =
      error_of([&] { read_bag_of_words(dir + "/none.feat", 5); });
  EXPECT_TRUE(contains(error, dir + "/none.feat' does not exist"));
}

TEST(Vocabulary, OneWordPerLine) {
  const std::string dir = scratch_dir();
  const auto words = read_vocabulary(
      write_text(dir + "/vocab.new", "apple 12\r\nbanana\n cherry\t3\n\n\n"));
  EXPECT_EQ(words, (std::vector<std::string>{"apple", "banana", "cherry"}));

  const std::string blank = error_of(
      [&] { read_vocabulary(write_text(dir + "/gap.txt", "a\n\nb\n")); });
  EXPECT_TRUE(contains(blank, dir + "/gap.txt"));
  EXPECT_TRUE(contains(blank, "line 2: blank line before the word on line 3"));
  const std::string empty =
      error_of([&] { read_vocabulary(write_text(dir + "/empty.txt", "\n")); });
  EXPECT_TRUE(contains(empty, dir + "/empty.txt' holds no words"));
}

TEST(BagOfWordsFolder, LoadsSplitsAgainstTheVocabulary) {
  const std::string dir = scratch_dir();
  write_text(dir + "/vocab.new", "a\nb\nc\n");
  write_text(dir + "/train.feat", "0 1:1 3:2\n1 2:5\n");
  write_text(dir + "/test.feat", "2 3:4\n");
  const auto data = load_bag_of_words_folder(dir, "rcv1");
  EXPECT_EQ(data.name, "rcv1");
  EXPECT_EQ(data.vocabulary, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(data.train.size(), 2);
  EXPECT_EQ(data.train.vocab_size, 3);
  EXPECT_EQ(data.test.size(), 1);
  EXPECT_TRUE(torch::equal(densify(data.test, torch::tensor({0})),
                           torch::tensor({{0.f, 0.f, 4.f}})));

  // An id valid for a larger vocabulary but not this one.
  write_text(dir + "/test.feat", "2 4:1\n");
  const std::string error =
      error_of([&] { load_bag_of_words_folder(dir, "rcv1"); });
  EXPECT_TRUE(contains(error, dir + "/test.feat"));
  EXPECT_TRUE(contains(error, "the vocabulary has 3 words"));
}

TEST(BagOfWordsFolder, MissingFilesAreNamed) {
  const std::string dir = scratch_dir();
  write_text(dir + "/train.feat", "0 1:1\n");
  const std::string error =
      error_of([&] { load_bag_of_words_folder(dir, "rcv1"); });
  EXPECT_TRUE(contains(error, dir));
  EXPECT_TRUE(contains(error, "lacks test.feat, a vocabulary"));
  const std::string absent =
      error_of([&] { load_bag_of_words_folder(dir + "/x", "rcv1"); });
  EXPECT_TRUE(contains(absent, dir + "/x' does not exist"));
}

}  // namespace
