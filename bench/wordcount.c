/* Reference word counter for the wordcount benchmark: a C open-addressing hash table over bytes.
 * A word is a maximal run of bytes other than ASCII whitespace (space, \t, \n, \v, \f, \r).
 * Usage: wordcount FILE RUNS  -> prints "<seconds of each run...>\t<words>\t<distinct>" */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct { uint32_t hash; uint32_t len; const unsigned char *word; uint64_t count; } slot_t;

static slot_t *table;
static size_t cap, used;

static void grow(void) {
  size_t ncap = cap ? cap * 2 : 1 << 16;
  slot_t *n = calloc(ncap, sizeof(slot_t));
  for (size_t i = 0; i < cap; i++) {
    if (!table[i].word) continue;
    size_t j = table[i].hash & (ncap - 1);
    while (n[j].word) j = (j + 1) & (ncap - 1);
    n[j] = table[i];
  }
  free(table);
  table = n;
  cap = ncap;
}

static void add(const unsigned char *w, uint32_t len, uint32_t h) {
  if ((used + 1) * 2 > cap) grow();
  size_t j = h & (cap - 1);
  while (table[j].word) {
    if (table[j].hash == h && table[j].len == len && memcmp(table[j].word, w, len) == 0) {
      table[j].count++;
      return;
    }
    j = (j + 1) & (cap - 1);
  }
  table[j] = (slot_t){h, len, w, 1};
  used++;
}

int main(int argc, char **argv) {
  if (argc < 3) return 2;
  FILE *f = fopen(argv[1], "rb");
  if (!f) return 2;
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *buf = malloc(size ? size : 1);
  if (fread(buf, 1, size, f) != (size_t)size) return 2;
  fclose(f);
  static unsigned char ws[256];
  ws[' '] = ws['\t'] = ws['\n'] = ws['\v'] = ws['\f'] = ws['\r'] = 1;
  int runs = atoi(argv[2]);
  uint64_t words = 0;
  for (int r = 0; r < runs; r++) {
    free(table);
    table = NULL;
    cap = used = 0;
    words = 0;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    long i = 0;
    while (i < size) {
      while (i < size && ws[buf[i]]) i++;
      if (i >= size) break;
      long s = i;
      uint32_t h = 2166136261u;
      while (i < size && !ws[buf[i]]) h = (h ^ buf[i++]) * 16777619u;
      add(buf + s, (uint32_t)(i - s), h);
      words++;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("%s%.6f", r ? " " : "", (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
  }
  printf("\t%llu\t%zu\n", (unsigned long long)words, used);
  return 0;
}
