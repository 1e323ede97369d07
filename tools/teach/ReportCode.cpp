//===- ReportCode.cpp - The report's generated code per kernel ------------===//

#include "tools/teach/ReportParts.h"

#include "codegen/cuda/CudaPrinter.h"
#include "ir/Format.h"
#include "ir/KernelNames.h"
#include "ir/Printer.h"
#include "passes/MemoryPlan.h"

#ifdef NNC_HAVE_CPU_BACKEND
#include "codegen/cpu/CpuBackend.h"
#endif

#include <map>
#include <sstream>

namespace nn {

namespace {

/// The LLVM IR functions of a module, by name.
std::map<std::string, std::string> llvmFunctions(const std::string &ir) {
  std::map<std::string, std::string> fns;
  std::istringstream is(ir);
  std::string line, name, body;
  while (std::getline(is, line)) {
    if (line.rfind("define ", 0) == 0) {
      size_t at = line.find('@');
      size_t paren = line.find('(', at);
      name = at == std::string::npos ? "" : line.substr(at + 1, paren - at - 1);
      body.clear();
    }
    if (!name.empty())
      body += line + "\n";
    if (!name.empty() && line == "}") {
      fns[name] = body;
      name.clear();
    }
  }
  return fns;
}

} // namespace

std::string codeSection(const LoadedModel &m) {
  Graph g = compileTo(m, Stage::Fused);
  std::ostringstream os;
  os << "<section id=\"code\">\n<h2>Generated code per kernel</h2>\n"
     << "<p>One kernel per node of the fused graph (<code>nnc emit "
        "--stage=fused</code>), for batch "
     << m.model.recipe.batch
     << ". <button id=\"expand-all\">expand all</button> <button "
        "id=\"collapse-all\">collapse all</button></p>\n";
  std::map<std::string, std::string> llvm;
#ifdef NNC_HAVE_CPU_BACKEND
  llvm = llvmFunctions(
      emitLlvmText(g, planMemory(g, m.model.recipe.batch), false));
  os << "<p>LLVM IR of the CPU backend before optimization (<code>nnc emit "
        "--stage=llvm</code>; the step function calls the kernels in "
        "order).</p>\n";
  if (auto it = llvm.find(g.name + "_step"); it != llvm.end())
    os << "<details><summary>@" << htmlEscape(it->first)
       << ": the training step</summary>\n"
       << htmlPre(it->second, "llvm") << "</details>\n";
#else
  os << "<p class=\"note\">This nnc was built without the CPU backend (LLVM "
        "19 was not found at configure time): no LLVM IR.</p>\n";
#endif
  CudaSource cuda = printCuda(g);
  std::vector<std::string> cudaLines;
  {
    std::istringstream is(cuda.code);
    std::string line;
    while (std::getline(is, line))
      cudaLines.push_back(line);
  }
#ifdef NNC_HAVE_CUDA_BACKEND
  os << "<p>CUDA C++ of the CUDA backend (<code>nnc emit --stage=cuda</code>; "
        "compiled at run time by NVRTC).</p>\n";
#else
  os << "<p class=\"note\">This nnc was built without NVRTC: the CUDA C++ "
        "below is what the CUDA printer writes (<code>nnc emit "
        "--stage=cuda</code>), not compiled here.</p>\n";
#endif
  NodePrinter nodeText(g);
  std::vector<std::string> kernelName = kernelNames(g);
  for (NodeId id = 0; id < g.size(); ++id) {
    if (hasTrait(g[id].op, kLeaf))
      continue;
    std::string title = nodeText(id);
    os << "<details class=\"kernel\"><summary>" << htmlEscape(title)
       << "</summary>\n";
    // Its kernel, and the kernel group it leads (ir/KernelNames.h).
    const std::string &kernel = kernelName[static_cast<size_t>(id)];
    bool any = false;
    for (const std::string &name : {kernel, kernel + "_with_bias"})
      if (auto it = llvm.find(name); it != llvm.end()) {
        os << "<p>LLVM IR: @" << htmlEscape(name) << "</p>\n"
           << htmlPre(it->second, "llvm");
        any = true;
      }
#ifdef NNC_HAVE_CPU_BACKEND
    if (!any)
      os << "<p class=\"note\">No LLVM function of its own: the CPU backend "
            "computes it inside another kernel (a kernel group) or the step "
            "function.</p>\n";
#endif
    if (const CudaKernel *k = cuda.kernelOf(id)) {
      std::string src;
      for (int l = k->firstLine;
           l <= k->lastLine && l <= static_cast<int>(cudaLines.size()); ++l)
        src += cudaLines[l - 1] + "\n";
      os << "<p>CUDA C++: " << htmlEscape(k->name) << "</p>\n"
         << htmlPre(src, "cuda");
    }
    os << "</details>\n";
  }
  os << "</section>\n";
  return os.str();
}

} // namespace nn
