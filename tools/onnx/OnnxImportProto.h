//===- OnnxImportProto.h - The ONNX protobuf classes ------------*- C++ -*-===//
///
/// \file
/// The one place tools/onnx includes the generated ONNX protos (Debian's
/// libonnx-dev, built with ONNX_ML): only tools/onnx/OnnxImport*.cpp include
/// it.
///
//===----------------------------------------------------------------------===//
#pragma once

#ifndef ONNX_ML
#define ONNX_ML 1
#endif
#ifndef ONNX_NAMESPACE
#define ONNX_NAMESPACE onnx
#endif
#include <onnx/onnx_pb.h>
