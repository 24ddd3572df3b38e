#include "iai/data/bag_of_words.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string_view>
#include <unordered_set>

#include "iai/core/error.h"

namespace iai::data {
namespace {

namespace fs = std::filesystem;

constexpr const char* kSpace = " \t\r\v\f";

std::ifstream open_text(const std::string& path, const std::string& what) {
  std::error_code ec;
  IAI_CHECK(fs::exists(path, ec), what, " file '", path, "' does not exist");
  IAI_CHECK(!fs::is_directory(path, ec), "cannot open ", what, " file '", path,
            "': it is a folder, not a file");
  errno = 0;
  std::ifstream in(path);
  IAI_CHECK(in, "cannot open ", what, " file '", path,
            "': ", errno ? std::strerror(errno) : "unknown error");
  return in;
}

// The next whitespace-separated token of `line` from `pos` ("" at the end).
std::string_view next_token(std::string_view line, size_t& pos) {
  const size_t begin = line.find_first_not_of(kSpace, pos);
  if (begin == std::string_view::npos) {
    pos = line.size();
    return {};
  }
  const size_t end = std::min(line.find_first_of(kSpace, begin), line.size());
  pos = end;
  return line.substr(begin, end - begin);
}

// A whole number, optionally signed; false unless all of `text` is one.
bool parse_int(std::string_view text, int64_t& value) {
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  if (text.empty()) return false;
  const auto [end, ec] =
      std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc() && end == text.data() + text.size();
}

}  // namespace

int64_t TextSplit::size() const {
  return labels.defined() ? labels.size(0) : 0;
}

std::vector<std::string> read_vocabulary(const std::string& path) {
  std::ifstream in = open_text(path, "vocabulary");
  std::vector<std::string> words;
  int64_t blank_line = 0;  // the first blank line not yet followed by words
  int64_t line_number = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_number;
    size_t pos = 0;
    const std::string_view word = next_token(line, pos);
    if (word.empty()) {
      if (blank_line == 0) blank_line = line_number;
      continue;
    }
    IAI_CHECK(blank_line == 0, "vocabulary file '", path, "', line ",
              blank_line, ": blank line before the word on line ", line_number,
              "; each line must hold one word (line k is word "
              "id k), so a blank line would shift the ids that follow");
    words.emplace_back(word);
  }
  IAI_CHECK(!in.bad(), "vocabulary file '", path, "': read failed");
  IAI_CHECK(!words.empty(), "vocabulary file '", path,
            "' holds no words; expected one word per line");
  return words;
}

TextSplit read_bag_of_words(const std::string& path, int64_t vocab_size) {
  IAI_CHECK(vocab_size > 0, "cannot read bag-of-words file '", path,
            "': the vocabulary size must be positive, got ", vocab_size);
  std::ifstream in = open_text(path, "bag-of-words");
  std::vector<int64_t> offsets = {0}, ids, labels;
  std::vector<float> counts;
  int64_t dropped = 0;
  int64_t line_number = 0;
  std::unordered_set<int64_t> seen;
  const std::string where_prefix = "bag-of-words file '" + path + "', line ";
  for (std::string line; std::getline(in, line);) {
    ++line_number;
    size_t pos = 0;
    const std::string_view label_text = next_token(line, pos);
    if (label_text.empty()) continue;  // blank line
    int64_t label = 0;
    IAI_CHECK(label_text.find(':') == std::string_view::npos, where_prefix,
              line_number,
              ": expected a label before the id:count pairs, "
              "found '",
              label_text,
              "'; each line is 'label id:count "
              "id:count ...'");
    IAI_CHECK(parse_int(label_text, label), where_prefix, line_number,
              ": the label '", label_text,
              "' is not a whole number; each "
              "line is 'label id:count id:count ...'");
    seen.clear();
    const size_t first = ids.size();
    for (std::string_view token = next_token(line, pos); !token.empty();
         token = next_token(line, pos)) {
      const size_t colon = token.find(':');
      IAI_CHECK(colon != std::string_view::npos, where_prefix, line_number,
                ": malformed token '", token, "'; expected id:count");
      const std::string_view id_text = token.substr(0, colon);
      const std::string_view count_text = token.substr(colon + 1);
      int64_t id = 0, count = 0;
      IAI_CHECK(parse_int(id_text, id), where_prefix, line_number,
                ": malformed token '", token, "'; the id '", id_text,
                "' is not a whole number (expected id:count)");
      IAI_CHECK(parse_int(count_text, count), where_prefix, line_number,
                ": malformed token '", token, "'; the count '", count_text,
                "' is not a whole number (expected id:count)");
      IAI_CHECK(id >= 1 && id <= vocab_size, where_prefix, line_number,
                ": word id ", id, " in '", token,
                "' is out of range; ids are "
                "1-based and the vocabulary has ",
                vocab_size, " words, so ids run 1..", vocab_size);
      IAI_CHECK(count >= 0, where_prefix, line_number, ": negative count ",
                count, " in '", token, "'; counts must be >= 0");
      IAI_CHECK(seen.insert(id).second, where_prefix, line_number, ": word id ",
                id, " appears more than once in the document");
      if (count == 0) continue;
      ids.push_back(id - 1);
      counts.push_back(static_cast<float>(count));
    }
    if (ids.size() == first) {
      ++dropped;
      continue;
    }
    labels.push_back(label);
    offsets.push_back(static_cast<int64_t>(ids.size()));
  }
  IAI_CHECK(!in.bad(), "bag-of-words file '", path, "': read failed");
  IAI_CHECK(!labels.empty(), "bag-of-words file '", path,
            "' holds no documents",
            dropped > 0 ? message(" with words (", dropped, " empty ones)")
                        : std::string(),
            "; expected one 'label id:count id:count ...' line per document");

  auto to_tensor = [](auto& values, torch::ScalarType type) {
    return torch::from_blob(values.data(),
                            {static_cast<int64_t>(values.size())}, type)
        .clone();
  };
  TextSplit split;
  split.offsets = to_tensor(offsets, torch::kLong);
  split.ids = to_tensor(ids, torch::kLong);
  split.counts = to_tensor(counts, torch::kFloat);
  split.labels = to_tensor(labels, torch::kLong);
  split.vocab_size = vocab_size;
  split.dropped_empty = dropped;
  return split;
}

TextDataset load_bag_of_words_folder(const std::string& dir,
                                     const std::string& name) {
  const std::string files =
      "train.feat, test.feat and a vocabulary, vocab.new or vocab.txt";
  std::error_code ec;
  IAI_CHECK(fs::exists(dir, ec), "bag-of-words folder '", dir,
            "' does not exist; it should hold ", files);
  IAI_CHECK(fs::is_directory(dir, ec), "bag-of-words folder '", dir,
            "' is not a folder; it should hold ", files);
  const fs::path folder = dir;
  std::string vocabulary;
  for (const char* candidate : {"vocab.new", "vocab.txt"}) {
    if (fs::exists(folder / candidate, ec)) {
      vocabulary = (folder / candidate).string();
      break;
    }
  }
  std::string missing;
  for (const char* file : {"train.feat", "test.feat"}) {
    if (!fs::exists(folder / file, ec)) {
      missing += (missing.empty() ? "" : ", ") + std::string(file);
    }
  }
  if (vocabulary.empty()) {
    missing += (missing.empty() ? "" : ", ") +
               std::string("a vocabulary (vocab.new or vocab.txt)");
  }
  IAI_CHECK(missing.empty(), "bag-of-words folder '", dir, "' lacks ", missing,
            "; it should hold ", files);

  TextDataset data;
  data.vocabulary = read_vocabulary(vocabulary);
  const auto v = static_cast<int64_t>(data.vocabulary.size());
  data.train = read_bag_of_words((folder / "train.feat").string(), v);
  data.test = read_bag_of_words((folder / "test.feat").string(), v);
  data.name = name;
  return data;
}

torch::Tensor densify(const TextSplit& split, const torch::Tensor& indices) {
  // returns (b,V) float
  IAI_CHECK(indices.dim() == 1,
            "densify: expected a 1-D tensor of document "
            "indices, got ",
            indices.dim(), " dimensions");
  const torch::Tensor rows = indices.to(torch::kLong).contiguous();
  const int64_t b = rows.size(0);
  const int64_t n = split.size();
  torch::Tensor out = torch::zeros({b, split.vocab_size}, torch::kFloat);
  auto dense = out.accessor<float, 2>();
  const auto offsets = split.offsets.accessor<int64_t, 1>();
  const auto ids = split.ids.accessor<int64_t, 1>();
  const auto counts = split.counts.accessor<float, 1>();
  const auto* row = rows.data_ptr<int64_t>();
  for (int64_t i = 0; i < b; ++i) {
    const int64_t d = row[i];
    IAI_CHECK(d >= 0 && d < n, "densify: document index ", d,
              " is out of range; the split holds ", n, " documents");
    for (int64_t j = offsets[d]; j < offsets[d + 1]; ++j) {
      dense[i][ids[j]] += counts[j];
    }
  }
  return out;
}

torch::Tensor document_lengths(const TextSplit& split) {
  // segment sums of counts: cumulative sums at the offsets, differenced
  const torch::Tensor cumulative =
      torch::cat({torch::zeros({1}, torch::kDouble),
                  split.counts.to(torch::kDouble).cumsum(0)});
  const torch::Tensor ends = cumulative.index_select(0, split.offsets);
  return ends.slice(0, 1) - ends.slice(0, 0, -1);
}

}  // namespace iai::data
