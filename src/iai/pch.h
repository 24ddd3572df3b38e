// Precompiled header for the library's sources: the LibTorch headers almost
// every file needs. Public headers never rely on it; they include what they
// use.
#pragma once
#include <torch/autograd.h>
#include <torch/nn/module.h>
#include <torch/optim/adam.h>
#include <torch/serialize.h>
#include <torch/types.h>

#include <nlohmann/json.hpp>

#include <string>
#include <vector>
