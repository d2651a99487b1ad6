/* loop: s = s + i for i in 0..n; n = argv[1] (10^8 in the full run).
 *
 * Constant folding is prevented by reading n from argv (no volatile). A compiler could
 * still replace the loop by its closed form n*(n-1)/2 (clang does; gcc 12 at -O2 does
 * not), so the empty asm statement hides s from the optimiser in each iteration. It
 * emits no instruction and s stays in a register: with gcc 12 the loop is the same
 * add/add/cmp/jg as without it, the one-add-per-iteration floor. */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    long long n = argc > 1 ? atoll(argv[1]) : 100000000LL;
    long long s = 0;
    for (long long i = 0; i < n; i++) {
        s = s + i;
        __asm__ volatile("" : "+r"(s));
    }
    printf("%lld\n", s);
    return 0;
}
