// norch/norch.h — everything a C++ user of libnorch needs.
#pragma once
#include "norch/error.h"
#include "norch/tensor/tensor.h"
#include "norch/tensor/iterator.h"
#include "norch/backend.h"
#include "norch/autograd/engine.h"
#include "norch/autograd/function.h"
#include "norch/autograd/grad_mode.h"
#include "norch/ops/binary.h"
#include "norch/ops/copy.h"
#include "norch/ops/creation.h"
#include "norch/ops/linalg.h"
#include "norch/ops/reduce.h"
#include "norch/ops/shape.h"
#include "norch/ops/unary.h"
<<<<<<< HEAD
#include "norch/nn/loss.h"
#include "norch/nn/norm.h"
#include "norch/nn/optim.h"
=======
#include "norch/ops/random.h"
>>>>>>> main
