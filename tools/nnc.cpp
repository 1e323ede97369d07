//===- nnc.cpp - The nnc driver -------------------------------------------===//

#include <cstdio>

int main(int argc, char **argv) {
  std::fprintf(stderr, "usage: nnc <command> model.nn [options]\n");
  return 2;
}
