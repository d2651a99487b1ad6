/* strings: append the decimal text of i % 10 to a string for i in 0..n and print the
 * length; n = argv[1] (10^6 in the full run). The string is a growing heap buffer that
 * doubles its capacity, so appending is amortised O(1), as in the Lua table buffer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Writes the decimal text of v >= 0 to out and returns its length (what str() does). */
static size_t int_to_text(long long v, char out[24]) {
    char digits[24];
    size_t count = 0;
    do {
        digits[count++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    for (size_t i = 0; i < count; i++) {
        out[i] = digits[count - 1 - i];
    }
    return count;
}

int main(int argc, char **argv) {
    long long n = argc > 1 ? atoll(argv[1]) : 1000000;
    size_t length = 0;
    size_t capacity = 16;
    char *text = malloc(capacity);
    if (text == NULL) {
        return 1;
    }
    for (long long i = 0; i < n; i++) {
        char piece[24];
        size_t piece_length = int_to_text(i % 10, piece);
        if (length + piece_length > capacity) {
            while (length + piece_length > capacity) {
                capacity *= 2;
            }
            char *grown = realloc(text, capacity);
            if (grown == NULL) {
                free(text);
                return 1;
            }
            text = grown;
        }
        memcpy(text + length, piece, piece_length);
        length += piece_length;
    }
    printf("%zu\n", length);
    free(text);
    return 0;
}
