#include "iai/train/config/training_data.h"

#include "iai/data/load_examples.h"

namespace iai::train {

data::ExampleSets load_data(const TrainConfig& c) {
  data::DataSelection selection;
  selection.dataset = c.dataset;
  selection.dir = c.data_dir;
  selection.train_images = c.train_images;
  selection.test_images = c.test_images;
  selection.max_train = c.max_train;
  selection.max_test = c.max_test;
  selection.preprocessing = preprocessing_of(c);
  return data::load_examples(selection);
}

data::Preprocessing preprocessing_of(const TrainConfig& c) {
  return c.likelihood == "gaussian" ? data::Preprocessing::kDequantize
                                    : data::Preprocessing::kBinarize;
}

}  // namespace iai::train
