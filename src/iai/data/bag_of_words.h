#pragma once
// Bag-of-words text data (RCV1, 20 Newsgroups as prepared for NVDM by Miao
// et al.): one document per line of a sparse text file,
//
//   label id:count id:count ...
//
// with a whole-number label, then word ids and their counts separated by
// whitespace. Ids are 1-based, as in NVDM's and LIBSVM's files: id k is the
// word on line k of the vocabulary file (one word per line; anything after
// the word on its line, such as a frequency, is ignored). Counts are whole
// numbers >= 0; zero counts are dropped. Documents stay sparse in memory
// (CSR: offsets, ids, counts) and are densified a batch at a time.

#include <torch/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace iai::data {

/// One split of a bag-of-words data set, in compressed sparse rows: document
/// d's words are ids[offsets[d] .. offsets[d+1]) with counts at the same
/// positions, in the order the file lists them.
struct TextSplit {
  torch::Tensor offsets;      // (N+1) int64, offsets[0] = 0, offsets[N] = nnz
  torch::Tensor ids;          // (nnz) int64, 0-based: the file's id - 1
  torch::Tensor counts;       // (nnz) float, each > 0
  torch::Tensor labels;       // (N) int64, the first field of each line
  int64_t vocab_size = 0;     // V: every id is < V
  int64_t dropped_empty = 0;  // lines with a label but no words, skipped

  /// N, the number of documents.
  int64_t size() const;
};

/// The train and test splits of a bag-of-words data set and its vocabulary.
struct TextDataset {
  TextSplit train, test;
  std::vector<std::string> vocabulary;  // word of 0-based id i
  std::string name;                     // e.g. "rcv1"
};

/// Reads a vocabulary file, one word per line (the first whitespace-separated
/// field of each line; Windows line ends accepted; blank lines at the end
/// ignored). Throws iai::Error naming the file when it cannot be opened,
/// holds no words, or a line before the last word is blank.
std::vector<std::string> read_vocabulary(const std::string& path);

/// Reads a sparse bag-of-words file (format above) for a vocabulary of
/// `vocab_size` words. Blank lines are skipped; documents with a label but
/// no words (or only zero counts) are skipped and counted in dropped_empty.
///
/// Throws iai::Error naming the file and line when the file cannot be
/// opened, a label is not a whole number, a token is not id:count, an id is
/// not a whole number in 1..vocab_size, a count is negative or not a whole
/// number, an id appears twice in one document, or the file holds no
/// documents.
TextSplit read_bag_of_words(const std::string& path, int64_t vocab_size);

/// Loads a folder holding train.feat, test.feat and the vocabulary,
/// vocab.new (NVDM's name) or vocab.txt, naming the data set `name`.
/// Throws iai::Error when the folder or a file is missing, or a file is
/// invalid (see read_vocabulary, read_bag_of_words).
TextDataset load_bag_of_words_folder(const std::string& dir,
                                     const std::string& name);

/// The dense counts of documents `indices` ((b) int64, each in 0..N-1):
/// returns (b,V) float, row i holding document indices[i]'s count of each
/// word. Throws iai::Error when an index is out of range.
torch::Tensor densify(const TextSplit& split, const torch::Tensor& indices);

/// N_d, the number of words (sum of counts) of each document: (N) double.
torch::Tensor document_lengths(const TextSplit& split);

}  // namespace iai::data
