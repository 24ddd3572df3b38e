#pragma once
// CIFAR-10, binary version (the `cifar-10-batches-bin` folder of
// cifar-10-binary.tar.gz): data_batch_1.bin ... data_batch_5.bin (training)
// and test_batch.bin, each 10000 records of 1 label byte (0..9) and 3072
// pixel bytes: the 1024 red, then 1024 green, then 1024 blue values of a
// 32x32 image, each plane row-major. The records' pixel bytes are exactly
// ImageSplit's channel-major layout, so they are kept as they are.

#include <cstdint>
#include <string>

#include "iai/data/mnist.h"

namespace iai::data {

/// Bytes in one CIFAR-10 record: 1 label byte + 3 * 32 * 32 pixel bytes.
constexpr int64_t kCifar10RecordBytes = 1 + 3 * 32 * 32;

/// Records in each file of the real data set.
constexpr int64_t kCifar10RecordsPerFile = 10000;

/// Reads one CIFAR-10 binary batch file into a split: images (N,3072) uint8
/// (channels 3, height 32, width 32), labels (N) int64 in 0..9.
/// `expected_records` is the number of records the file must hold; 0 accepts
/// any positive number.
///
/// Throws iai::Error naming the file when it cannot be opened, is empty, its
/// size is not a whole number of 3073-byte records (truncated, or another
/// format such as CIFAR-100's 3074-byte records), it holds a number of
/// records other than `expected_records`, or a label byte is not 0..9.
ImageSplit read_cifar10_batch(const std::string& path,
                              int64_t expected_records = 0);

/// Loads CIFAR-10 from a folder holding data_batch_1.bin ... data_batch_5.bin
/// and test_batch.bin (or from its `cifar-10-batches-bin` subfolder, as the
/// archive unpacks): train = the five data batches in order, test =
/// test_batch.bin. Every file must hold `records_per_file` records (0 accepts
/// any positive number, for tests). The data set is named "cifar10".
///
/// Throws iai::Error when the folder or a file is missing (naming the missing
/// files, with a hint when the folder holds the Python version instead) or a
/// file is invalid (see read_cifar10_batch).
ImageDataset load_cifar10_folder(
    const std::string& dir, int64_t records_per_file = kCifar10RecordsPerFile);

}  // namespace iai::data
