/* train.c: trains the XOR network of examples/xor.nn from plain C, with the
 * code `nnc compile` wrote ahead of time. No nnc, no LLVM at run time:
 *
 *   nnc compile ../xor.nn --output xor.o      # writes xor.o and xor.h
 *   cc -O2 -o train train.c xor.o -lm
 *   ./train [steps [print_every]]
 *
 * Each step is one batch of the four XOR rows, as `nnc train xor.nn` runs it.
 */
#include "xor.h"

#include <stdio.h>
#include <stdlib.h>

/* The four rows of examples/data/xor.csv: a, b -> a xor b. */
static const float kX[4 * XOR_X_FLOATS] = {0, 0, 0, 1, 1, 0, 1, 1};
static const float kY[4 * XOR_Y_FLOATS] = {0, 1, 1, 0};

int main(int argc, char **argv) {
  long steps = argc > 1 ? strtol(argv[1], NULL, 10) : 300;
  long every = argc > 2 ? strtol(argv[2], NULL, 10) : 50;
  if (steps < 1 || every < 1) {
    fprintf(stderr, "usage: %s [steps [print_every]]\n", argv[0]);
    return 2;
  }

  /* The arena must be 64-byte aligned; the state block needs no alignment
   * beyond float's, but aligning it helps vector loads. */
  float *state = aligned_alloc(64, sizeof(float) * XOR_STATE_FLOATS);
  void *arena = aligned_alloc(64, XOR_ARENA_BYTES);
  if (!state || !arena) {
    fprintf(stderr, "out of memory\n");
    return 1;
  }
  xor_init(state, arena);

  for (long step = 1; step <= steps; ++step) {
    float loss;
    if (xor_train_step(state, kX, kY, 4, arena, &loss) != 0) {
      fprintf(stderr, "batch out of range\n");
      return 1;
    }
    if (step % every == 0 || step == 1)
      printf("step %ld loss %.9g\n", step, loss);
  }

  float pred[4 * XOR_PRED_FLOATS];
  xor_forward(state, kX, 4, arena, pred);
  int correct = 0;
  for (int i = 0; i < 4; ++i) {
    printf("xor(%g, %g) = %.4f\n", kX[2 * i], kX[2 * i + 1], pred[i]);
    correct += (pred[i] > 0.5f) == (kY[i] > 0.5f);
  }
  printf("accuracy %d/4\n", correct);
  free(state);
  free(arena);
  return 0;
}
