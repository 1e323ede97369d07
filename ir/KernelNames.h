//===- KernelNames.h - Stable names of generated kernels -------*- C++ -*-===//
///
/// \file
/// The name each backend gives a node's kernel: the node's `.nn` binding
/// made a C identifier, then the op's mnemonic ("fc1_fused_dense",
/// "d_fc1_weight_fused_dense_grad_weight"; "fc1_matmul" for a matmul named
/// fc1.matmul: the mnemonic is not repeated after a binding that ends in
/// "_" and it).
/// Node ids and source lines are not part of it, so a pass that adds or
/// moves nodes does not rename the kernels of the others. The rules, in
/// graph order:
///
///  - a node with a name takes it; one without takes the name of the graph
///    output it is; failing that, the name of its first user that has one
///    (given or taken from a user: an unnamed node is usually a part of the
///    expression of the node it feeds, e.g. autodiff's pieces of
///    d.fc1.weight); failing that, of its first operand that has one;
///    failing that, "k";
///  - the name is prefixed with "k_" where it could be mistaken for a name
///    the backends make themselves (the entry point "<graph>_step...",
///    "task_...", "nnc_...", "nn_...", "const...") or does not start with a
///    letter;
///  - the second node with the same kernel name gets "_2", the third "_3",
///    counting the nodes named in the source (or outputs) first.
///
/// The backends append their own suffixes ("_with_bias", "_big"), which no
/// mnemonic ends with, so those never collide with a node's kernel name.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"

#include <string>
#include <vector>

namespace nn {

/// `s` with every character outside [A-Za-z0-9_] replaced by '_'.
std::string cIdentifier(const std::string &s);

/// The kernel name of every node of `g`, indexed by NodeId (leaves have one
/// too, though no backend emits a kernel for them).
std::vector<std::string> kernelNames(const Graph &g);

} // namespace nn
