# Type stub of the iai package (python/iai/__init__.py holds the docstrings).
import os
from typing import Any, Dict, NamedTuple, Optional, Union

import torch

class Error(RuntimeError): ...

class Inference(NamedTuple):
    mu: torch.Tensor
    logvar: Optional[torch.Tensor]
    elbo: torch.Tensor

class Samples(NamedTuple):
    x: torch.Tensor
    z: torch.Tensor

class Run:
    @property
    def path(self) -> str: ...
    @property
    def folder(self) -> str: ...
    @property
    def config(self) -> Dict[str, Any]: ...
    @property
    def epochs(self) -> int: ...
    @property
    def device(self) -> str: ...
    @property
    def data_dim(self) -> int: ...
    @property
    def latent_dim(self) -> int: ...
    def infer(self, x: torch.Tensor, iterations: Optional[int] = None,
              samples: Optional[int] = None, *, seed: Optional[int] = None,
              batch_size: int = 256) -> Inference: ...
    def elbo(self, x: torch.Tensor, samples: int = 1, *,
             iterations: Optional[int] = None, seed: Optional[int] = None,
             batch_size: int = 256) -> torch.Tensor: ...
    def log_px(self, x: torch.Tensor, k: int = 5000, *,
               iterations: Optional[int] = None,
               samples: Optional[int] = None, seed: Optional[int] = None,
               batch_size: int = 250) -> torch.Tensor: ...
    def decode(self, z: torch.Tensor) -> torch.Tensor: ...
    def sample(self, n: int) -> Samples: ...
    def parameters(self) -> Dict[str, torch.Tensor]: ...

def load_run(path: Union[str, os.PathLike], device: str = "auto") -> Run: ...

def read_idx(path: Union[str, os.PathLike]) -> torch.Tensor: ...

def train(config: Union[Dict[str, Any], str, os.PathLike],
          out: Union[str, os.PathLike], decoder: Union[None, str, os.PathLike, torch.jit.ScriptModule] = None) -> Run: ...

def evaluate(run: Union[Run, str, os.PathLike], iw_samples: int = 5000, *,
             max_examples: int = 0, iterations: Optional[int] = None,
             samples: Optional[int] = None, data_dir: Optional[str] = None,
             out: Optional[str] = None, batch_size: int = 250,
             grid_examples: int = 8, seed: int = 1,
             threads: Optional[int] = None,
             device: str = "auto") -> Dict[str, Any]: ...
