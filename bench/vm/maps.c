/* maps: n updates of a map from int to int over 1000 keys (k = i % 1000), then print
 * m[7]; n = argv[1] (10^6 in the full run). The map is a minimal open-addressing hash
 * table (linear probing, 2048 slots, never resized as there are only 1000 keys): the
 * same contains / get / put per update as the Ved program, with nothing a general map
 * has to pay for (growth, deletion, boxed values). It is the floor, not a peer. */
#include <stdio.h>
#include <stdlib.h>

#define SLOTS 2048 /* a power of two, at least twice the 1000 keys */

struct slot {
    long long key;
    long long value;
    int used;
};

static struct slot table[SLOTS];

static size_t find_slot(long long key) {
    unsigned long long h = (unsigned long long)key * 0x9E3779B97F4A7C15ULL;
    size_t index = (size_t)(h >> 53); /* the top 11 bits: 0 .. 2047 */
    while (table[index].used && table[index].key != key) {
        index = (index + 1) & (SLOTS - 1);
    }
    return index;
}

static int contains(long long key) { return table[find_slot(key)].used; }

static long long get(long long key) { return table[find_slot(key)].value; }

static void put(long long key, long long value) {
    size_t index = find_slot(key);
    table[index].key = key;
    table[index].value = value;
    table[index].used = 1;
}

int main(int argc, char **argv) {
    long long n = argc > 1 ? atoll(argv[1]) : 1000000;
    for (long long i = 0; i < n; i++) {
        long long k = i % 1000;
        if (contains(k)) {
            put(k, get(k) + 1);
        } else {
            put(k, 1);
        }
    }
    printf("%lld\n", get(7));
    return 0;
}
