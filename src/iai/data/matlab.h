#pragma once
// Image data sets that ship as MATLAB (.mat) files, read through matio:
//
// SVHN (cropped digits, "format 2"): train_32x32.mat and test_32x32.mat, each
// holding X, uint8 32x32x3xN (row, column, R/G/B channel, example), and y,
// the N labels (N x 1, double or uint8) in 1..10, where 10 means digit 0.
//
// Omniglot, the 28x28 split of Burda et al.'s IWAE: chardata.mat, holding
// data (784 x 24345) and testdata (784 x 8070), doubles in [0, 1], one image
// per column. Each column is a 28x28 image in MATLAB's column-major order:
// entry i = r + 28*c is pixel (row r, column c), which is why IWAE's loader
// reshapes with order='F' (data.T.reshape(-1, 28, 28, order='F')). Both
// loaders reorder pixels so images come out upright in ImageSplit's
// row-major layout.

#include <string>

#include "iai/data/mnist.h"

namespace iai::data {

/// Reads one SVHN .mat file (train_32x32.mat / test_32x32.mat) into a split:
/// images (N,3072) uint8 (channels 3, height 32, width 32; the R, G and B
/// planes in turn, each row-major), labels (N) int64 in 0..9 (10 becomes 0).
///
/// Throws iai::Error naming the file when it is missing or not a MATLAB
/// file, lacks X or y (listing the variables it holds), X is not uint8 or not
/// 32x32x3xN, y is not double or uint8, not N x 1 (or 1 x N), or holds a
/// value other than a whole number in 1..10, or a variable cannot be read
/// (truncated or corrupt file).
ImageSplit read_svhn_mat(const std::string& path);

/// Loads SVHN from a folder holding train_32x32.mat and test_32x32.mat (the
/// extra_32x32.mat set is not used). The data set is named "svhn".
/// Throws iai::Error when the folder or a file is missing, or a file is
/// invalid (see read_svhn_mat).
ImageDataset load_svhn_folder(const std::string& dir);

/// Reads Omniglot's chardata.mat: train from `data`, test from `testdata`,
/// images (N,784) uint8 (channels 1, height 28, width 28, upright and
/// row-major, see above), each value round(x * 255) of the file's double x
/// (halves to even), so that dynamic binarisation (pixel / 255 as a
/// probability) recovers x to within 1/510.
/// Labels are the alphabet, the row of the largest entry of each column of
/// `target` / `testtarget` (one-hot, one column per image), when these are
/// present with one column per image; otherwise every label is -1 (unknown).
/// The data set is named "omniglot".
///
/// Throws iai::Error naming the file when it is missing or not a MATLAB
/// file, lacks data or testdata (listing the variables it holds), either is
/// not double, not 784 x N, holds a value outside [0, 1] or NaN, or cannot be
/// read (truncated or corrupt file).
ImageDataset read_omniglot_mat(const std::string& path);

/// Loads Omniglot from a folder holding chardata.mat (see read_omniglot_mat).
ImageDataset load_omniglot_folder(const std::string& dir);

}  // namespace iai::data
